package sharing

import (
	"testing"

	"github.com/nsinspect/nsinspect/features"
	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/namespaces"
)

// For each namespace type and several combinations, a process made by
// unshare(1) must differ from the test process in exactly the namespaces
// it was given, and share every other link.
func TestCompareUnshare(t *testing.T) {
	testutil.CheckLeaks(t)
	all := []string{"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "time_for_children", "user", "uts"}
	cases := []struct {
		name     string
		args     []string
		parent   bool     // compare the unshare process, not its forked child
		separate []string // every other link must be shared, unless...
		unknown  []string // ...it is indeterminate
	}{
		{"net", []string{"--net"}, false, []string{"net"}, nil},
		{"ipc", []string{"--ipc"}, false, []string{"ipc"}, nil},
		{"uts", []string{"--uts"}, false, []string{"uts"}, nil},
		{"mount", []string{"--mount"}, false, []string{"mnt"}, nil},
		{"cgroup", []string{"--cgroup"}, false, []string{"cgroup"}, nil},
		// CLONE_NEWUSER alone makes a user namespace and nothing else: the
		// other namespaces stay, owned by the parent user namespace.
		{"user", []string{"--user"}, false, []string{"user"}, nil},
		// unshare(CLONE_NEWTIME) moves only time_for_children; from Linux
		// 6.2 on ("fs/exec: switch timens when a task gets a new mm")
		// execve() then moves the task into it, so the exec'd sleep is in
		// the new time namespace for both links. Before 6.2 exec leaves
		// it where it was (measured on Debian's 6.1): timeExecSeparate.
		{"time exec", []string{"--time"}, false, timeExecSeparate(), nil},
		{"time fork child", []string{"--time", "--fork"}, false, []string{"time", "time_for_children"}, nil},
		{"time fork parent", []string{"--time", "--fork"}, true, []string{"time_for_children"}, nil},
		// The forked child is init of the new pid namespace; unshare
		// itself stays in the old one and only its children go to the new.
		{"pid fork child", []string{"--pid", "--fork"}, false, []string{"pid", "pid_for_children"}, nil},
		{"pid fork parent", []string{"--pid", "--fork"}, true, []string{"pid_for_children"}, nil},
		// Without --fork the new pid namespace never gets an init, and
		// before Linux 7.1 the kernel will not open pid_for_children
		// (ENOENT) until then; from 7.1 it opens: pidNoForkSeparate.
		{"pid no fork", []string{"--pid"}, false, pidNoForkSeparate(), pidNoForkUnknown()},
		{"net+uts", []string{"--net", "--uts"}, false, []string{"net", "uts"}, nil},
		{"user+mount", []string{"--user", "--mount"}, false, []string{"user", "mnt"}, nil},
		{"ipc+cgroup+time", []string{"--ipc", "--cgroup", "--time", "--fork"}, false, []string{"ipc", "cgroup", "time", "time_for_children"}, nil},
		{"pid+mount parent", []string{"--pid", "--mount", "--fork"}, true, []string{"pid_for_children", "mnt"}, nil},
		{"all", []string{"--user", "--mount", "--uts", "--ipc", "--net", "--pid", "--cgroup", "--time", "--fork"}, false, all, nil},
	}
	me := self(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := startUnshare(t, c.args...)
			target := u.child
			if c.parent || target == nil {
				target = u.parent
			}
			r := mustCompare(t, me, target)
			want := map[string]string{}
			for _, n := range all {
				want[n] = "shared"
			}
			for _, n := range c.separate {
				want[n] = "separate"
			}
			for _, n := range c.unknown {
				want[n] = "indeterminate"
			}
			wantVerdicts(t, r, want)
			for _, res := range r.Resources[:len(namespaces.Links)] {
				ev := res.Evidence
				if res.Shared == nil {
					continue
				}
				// Without NS_GET_ID (before 6.18) the inode, held open,
				// is the identity; with it, both sides must carry an id.
				withID := features.Has(features.NSGetID)
				if ev.A == nil || ev.B == nil || ev.A.Ino == 0 || ev.B.Ino == 0 || withID && (ev.A.ID == 0 || ev.B.ID == 0) {
					t.Errorf("%s: verdict without both identities (NS_GET_ID present: %t): %+v", res.Name, withID, ev)
				} else if *res.Shared != ev.A.Same(*ev.B) || *res.Shared != (ev.A.Ino == ev.B.Ino) {
					t.Errorf("%s: verdict %s contradicts its evidence %s", res.Name, res.Verdict(), ev)
				}
			}
			// A separate process, not a thread: no kernel object shared.
			wantVerdicts(t, r, map[string]string{"files": "separate", "vm": "separate", "sighand": "separate"})
		})
	}
}

// timeExecSeparate is what differs after unshare --time and exec: both
// time links from 6.2 on, only time_for_children before.
func timeExecSeparate() []string {
	if features.ReleaseAtLeast(6, 2) {
		return []string{"time", "time_for_children"}
	}
	return []string{"time_for_children"}
}

// pidNoForkSeparate and pidNoForkUnknown are pid_for_children after
// unshare --pid without a fork: separate from 7.1, which opens the link
// before the namespace's init exists; indeterminate before (ENOENT).
func pidNoForkSeparate() []string {
	if features.PidForChildrenBeforeInit() {
		return []string{"pid_for_children"}
	}
	return nil
}

func pidNoForkUnknown() []string {
	if features.PidForChildrenBeforeInit() {
		return nil
	}
	return []string{"pid_for_children"}
}
