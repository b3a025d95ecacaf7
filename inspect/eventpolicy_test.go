package inspect

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/policy"
	"github.com/nsinspect/nsinspect/tracer"
)

// What an event rule sees of a kernel record: the types changed or asked
// for, and the host namespaces entered (by the changes for a setns that
// returned, by its namespace file for one that failed).
func TestEventCheckerEvent(t *testing.T) {
	host := make([]namespaces.NS, len(namespaces.Links))
	for i, l := range namespaces.Links {
		host[i] = namespaces.NS{Type: l.Type, Ino: 4026531830 + uint64(i)}
	}
	net := namespaces.LinkIndex("net")
	uts := namespaces.LinkIndex("uts")
	task := func(pid int, ns map[int]uint64) tracer.Task {
		tk := tracer.Task{TGID: pid, TID: pid, Comm: "c"}
		for i := range tk.NS {
			tk.NS[i].Ino = host[i].Ino
			if v, ok := ns[i]; ok {
				tk.NS[i].Ino = v
			}
		}
		return tk
	}
	inContainer := map[int]uint64{net: 9001, uts: 9002}
	c := &EventChecker{host: host}
	tests := []struct {
		name            string
		r               tracer.Event
		types, intoHost []string
		failed          bool
	}{
		{"setns from a container into the host's net",
			tracer.Event{Kind: tracer.Setns, FDKind: tracer.FDNSFS, FDType: namespaces.Net, FDNS: tracer.NSRef{Ino: host[net].Ino},
				A: task(7, inContainer), B: task(7, map[int]uint64{uts: 9002})},
			[]string{"net"}, []string{"net"}, false},
		{"setns into the namespace it is in: nothing entered",
			tracer.Event{Kind: tracer.Setns, FDKind: tracer.FDNSFS, FDType: namespaces.Net, FDNS: tracer.NSRef{Ino: host[net].Ino},
				A: task(7, nil), B: task(7, nil)},
			nil, nil, false},
		{"setns into another container's net",
			tracer.Event{Kind: tracer.Setns, FDKind: tracer.FDNSFS, FDType: namespaces.Net, FDNS: tracer.NSRef{Ino: 9100},
				A: task(7, nil), B: task(7, map[int]uint64{net: 9100})},
			[]string{"net"}, nil, false},
		{"a refused setns into the host's net",
			tracer.Event{Kind: tracer.Setns, Errno: unix.EPERM, FDKind: tracer.FDNSFS, FDType: namespaces.Net, FDNS: tracer.NSRef{Ino: host[net].Ino},
				A: task(7, inContainer), B: task(7, inContainer)},
			[]string{"net"}, []string{"net"}, true},
		{"unshare CLONE_NEWUSER|CLONE_NEWUTS",
			tracer.Event{Kind: tracer.Unshare, Flags: unix.CLONE_NEWUSER | unix.CLONE_NEWUTS,
				A: task(8, nil), B: task(8, map[int]uint64{namespaces.LinkIndex("user"): 9200, uts: 9201})},
			[]string{"user", "uts"}, nil, false},
		{"a refused clone asks for its flags' types",
			tracer.Event{Kind: tracer.Fork, Errno: unix.EPERM, Syscall: "clone", Flags: unix.CLONE_NEWNET | unix.CLONE_NEWPID, A: task(9, nil)},
			[]string{"net", "pid"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := c.event(traceEvent(&tt.r))
			slices.Sort(e.Types)
			if !slices.Equal(e.Types, tt.types) || !slices.Equal(e.IntoHost, tt.intoHost) || e.Failed != tt.failed {
				t.Errorf("event %+v: types %v, into host %v, failed %v; want %v, %v, %v", tt.r.Kind, e.Types, e.IntoHost, e.Failed, tt.types, tt.intoHost, tt.failed)
			}
			if e.What == "" || e.HostUnknown != "" {
				t.Errorf("What %q, HostUnknown %q", e.What, e.HostUnknown)
			}
		})
	}
	// Without the host's namespaces, into: host is undecided, not false.
	pol, err := policy.Parse("p.yaml", []byte("version: 1\nrules:\n  - name: r\n    forbid: [{event: setns, into: host}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	blind := &EventChecker{pol: pol, hostErr: "PID 2 is not kthreadd"}
	ev := traceEvent(&tests[0].r)
	if vs := blind.Check(ev); len(vs) != 1 || vs[0].Undecided == "" {
		t.Errorf("host unknown: %+v, want the rule undecided", vs)
	}
	seeing := &EventChecker{pol: pol, host: host}
	if vs := seeing.Check(ev); len(vs) != 1 || vs[0].Undecided != "" || vs[0].Caller != "host/pid-7" {
		t.Errorf("host known: %+v, want the rule violated by host/pid-7", vs)
	}
}

// The host's namespaces are kthreadd's; a test run as root on the host
// (and in the kernel matrix's VMs) is in them, but for the mount
// namespace where a runner gave it one of its own.
func TestHostNamespaces(t *testing.T) {
	testutil.RequireRoot(t)
	host, err := HostNamespaces()
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range namespaces.Links {
		self, err := os.Readlink("/proc/self/ns/" + l.Name)
		if err != nil {
			t.Fatal(err)
		}
		_, ino, _ := namespaces.ParseLinkString(self)
		if host[i].Ino == 0 || host[i].Type != l.Type {
			t.Errorf("%s: %+v", l.Name, host[i])
		}
		if l.Name != "mnt" && host[i].Ino != ino {
			t.Errorf("%s: kthreadd's %d, this test's %d", l.Name, host[i].Ino, ino)
		}
	}
}

// A fork or unshare's born are the namespaces of the types its flags ask
// for that are new after it: one per namespace (pid and pid_for_children
// are one), none for a namespace the caller's children were already
// going to be in, none for a failed call.
func TestBorn(t *testing.T) {
	slot := func(name string) int { return namespaces.LinkIndex(name) }
	task := func(ns map[string]uint64) tracer.Task {
		var tk tracer.Task
		for i := range tk.NS {
			tk.NS[i].Ino = 4026531830 + uint64(i)
		}
		for n, ino := range ns {
			tk.NS[slot(n)].Ino = ino
		}
		return tk
	}
	tests := []struct {
		name string
		r    tracer.Event
		want string
	}{
		{"clone(CLONE_NEWNET|CLONE_NEWPID)", tracer.Event{Kind: tracer.Fork, Flags: unix.CLONE_NEWNET | unix.CLONE_NEWPID,
			A: task(nil), B: task(map[string]uint64{"net": 9001, "pid": 9002, "pid_for_children": 9002})}, "net 9001, pid 9002"},
		{"unshare(CLONE_NEWPID)", tracer.Event{Kind: tracer.Unshare, Flags: unix.CLONE_NEWPID,
			A: task(nil), B: task(map[string]uint64{"pid_for_children": 9003})}, "pid 9003"},
		{"a fork into the pid namespace unshare made", tracer.Event{Kind: tracer.Fork, Flags: 0,
			A: task(map[string]uint64{"pid_for_children": 9003}), B: task(map[string]uint64{"pid": 9003, "pid_for_children": 9003})}, ""},
		{"a refused unshare", tracer.Event{Kind: tracer.Unshare, Flags: unix.CLONE_NEWUSER, Errno: unix.EPERM,
			A: task(nil), B: task(nil)}, ""},
	}
	for _, tt := range tests {
		var got []string
		for _, n := range traceEvent(&tt.r).Born {
			got = append(got, fmt.Sprintf("%s %d", n.Type.Name(), n.Ino))
		}
		if strings.Join(got, ", ") != tt.want {
			t.Errorf("%s: born %v, want %q", tt.name, got, tt.want)
		}
	}
}
