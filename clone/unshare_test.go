//go:build cgo

package clone

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/clone/flags"
	"github.com/nsinspect/nsinspect/clone/report"
	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/verdict"
)

func runUnshareT(t *testing.T, spec string, thread bool) *report.Unshare {
	t.Helper()
	fs, err := flags.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := RunUnshare(Request{Flags: fs, Thread: thread})
	if err != nil {
		t.Fatalf("unshare %s: %v", spec, err)
	}
	return rep
}

// unshare(CLONE_NEWPID|CLONE_NEWTIME) changes only the *_for_children
// links; the next child is the first task in the new namespaces.
func TestUnsharePidTime(t *testing.T) {
	testutil.RequireRoot(t)
	rep := runUnshareT(t, "newpid,newtime,newnet,newuts", false)
	if rep.Errno != nil {
		t.Fatalf("refused: %s", *rep.Errno)
	}
	want := map[string]bool{"pid": false, "time": false, "pid_for_children": true, "time_for_children": true, "net": true, "uts": true, "mnt": false, "ipc": false, "user": false, "cgroup": false}
	for _, l := range rep.Links {
		if l.Changed != want[l.Link] {
			t.Errorf("%s changed = %v, want %v (before %d, after %d)", l.Link, l.Changed, want[l.Link], l.Before.ID, l.After.ID)
		}
		if (l.Link == "pid_for_children" || l.Link == "time_for_children") && (l.NextChild == nil || !*l.NextChild) {
			t.Errorf("%s: the next child is not in the new namespace", l.Link)
		}
	}
	for _, d := range rep.Disagreements {
		t.Error(d)
	}
	// nsinspect numbers the lab's processes as it sees them: one level
	// more than the caller's, and 1 at the new one.
	if n := rep.Child.NSpid; len(n) != len(rep.Caller.NSpid)+1 || n[len(n)-1] != 1 {
		t.Errorf("next child's NSpid %v (caller's %v), want one level more and 1 in the new pid namespace", n, rep.Caller.NSpid)
	}
}

// On one thread: files, fs and the SysV undo list leave the leader's; the
// thread's namespace links diverge from the leader's.
func TestUnshareThread(t *testing.T) {
	testutil.RequireRoot(t)
	rep := runUnshareT(t, "newnet,newuts,files,fs,sysvsem", true)
	if rep.Errno != nil {
		t.Fatalf("refused: %s", *rep.Errno)
	}
	for _, d := range rep.Disagreements {
		t.Error(d)
	}
	if rep.Caller.Tgid != rep.Leader.PID || rep.Caller.TID == rep.Leader.TID {
		t.Fatalf("caller %d/%d is not a second thread of %d", rep.Caller.PID, rep.Caller.TID, rep.Leader.PID)
	}
	leaderNet, _ := rep.Leader.NSLink("net")
	threadNet, _ := rep.Caller.NSLink("net")
	if leaderNet.Same(threadNet) {
		t.Errorf("leader and thread share net %+v after the thread's unshare", leaderNet)
	}
	for _, k := range rep.Kcmp {
		if k.Shared == nil || *k.Shared {
			t.Errorf("%s: after unshare the thread should not share it: %v", k.Name, verdict.Of(k.Shared))
		}
	}
	// Without the flags the thread keeps sharing; CLONE_NEWIPC detaches
	// the undo list and CLONE_NEWNS the fs_struct although neither flag
	// names them (ksys_unshare).
	for spec, want := range map[string]map[string]bool{
		"newcgroup": {"files": true, "fs": true, "sysvsem": true},
		"newipc":    {"files": true, "fs": true, "sysvsem": false},
		"newns":     {"files": true, "fs": false, "sysvsem": true},
	} {
		rep = runUnshareT(t, spec, true)
		for _, k := range rep.Kcmp {
			if k.Shared == nil || *k.Shared != want[k.Name] {
				t.Errorf("%s after unshare(%s): %v, want shared=%v", k.Name, spec, verdict.Of(k.Shared), want[k.Name])
			}
		}
		for _, d := range rep.Disagreements {
			t.Errorf("%s: %s", spec, d)
		}
	}
}

func TestUnshareRefused(t *testing.T) {
	testutil.RequireRoot(t)
	rep := runUnshareT(t, "newuser", true)
	if rep.Errno == nil || *rep.Errno != unix.ErrnoName(unix.EINVAL) || len(rep.Explanation) == 0 {
		t.Fatalf("unshare(CLONE_NEWUSER) on a thread: errno %v, explanation %q; want EINVAL explained", rep.Errno, rep.Explanation)
	}
}
