package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/nsinspect/nsinspect/clone/report"
)

// cloneFixture is a small report of a call that succeeded in a lab.
func cloneFixture(value uint64, names ...string) *report.Clone {
	if names == nil {
		names = []string{}
	}
	return &report.Clone{
		Call:     report.Call{Flags: names, Value: value, ValueHex: "0x0", Syscall: "clone", Mode: "lab"},
		Parent:   &report.Side{PID: 100, TID: 100, NSpid: []int{100, 2}},
		Child:    &report.Side{PID: 101, TID: 101, NSpid: []int{101, 3}},
		Relation: &report.Relation{ChildTgid: 101, ChildPPid: 100, ChildNSpid: []int{101, 3}},
	}
}

func renderCloneText(r *report.Clone) string {
	var b bytes.Buffer
	renderClone(&b, r)
	return b.String()
}

// `nsinspect clone 0` (a plain fork) names its flags "0", not nothing.
func TestRenderCloneNoFlags(t *testing.T) {
	first, _, _ := strings.Cut(renderCloneText(cloneFixture(0)), "\n")
	if !strings.HasPrefix(first, "clone(0 = 0x0) ") {
		t.Errorf("first line %q, want it to start with \"clone(0 = 0x0) \"", first)
	}
}

// NSpid's last level is the child's own pid namespace only with
// CLONE_NEWPID; without it the child is in the lab's, as the parent is.
func TestRenderCloneNSpid(t *testing.T) {
	shared := renderCloneText(cloneFixture(0))
	if strings.Contains(shared, "own pid namespace") || !strings.Contains(shared, "NSpid 101 3: pid 3 in the lab's pid namespace, which the parent shares") {
		t.Errorf("child without CLONE_NEWPID:\n%s", shared)
	}
	r := cloneFixture(0x20000000, "CLONE_NEWPID")
	r.Child.NSpid = []int{101, 3, 1}
	r.Relation.ChildNSpid = r.Child.NSpid
	if own := renderCloneText(r); !strings.Contains(own, "NSpid 101 3 1: pid 1 inside its own pid namespace (CLONE_NEWPID)") {
		t.Errorf("child with CLONE_NEWPID:\n%s", own)
	}
}

// The header names the namespaces the lab made and those it kept: a root
// lab keeps nsinspect's user namespace, so "every type" would mislead.
func TestRenderCloneLabHeader(t *testing.T) {
	for _, c := range []struct {
		mode, want string
		lab        []string
	}{
		{"lab", "in a disposable lab (new cgroup, ipc, mnt, net, pid, time and uts namespaces; the user namespace is nsinspect's)",
			[]string{"cgroup", "ipc", "mnt", "net", "pid", "time", "uts"}},
		{"lab", "in a disposable lab (new ipc, mnt, net, pid, time and uts namespaces; the cgroup and user namespaces are nsinspect's)",
			[]string{"ipc", "mnt", "net", "pid", "time", "uts"}},
		{"lab-userns", "in a disposable lab inside a new user namespace (new namespaces of every type)",
			[]string{"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"}},
		{"host", "from nsinspect's own namespaces (--host)", nil},
	} {
		r := cloneFixture(0)
		r.Mode, r.LabNamespaces = c.mode, c.lab
		first, _, _ := strings.Cut(renderCloneText(r), "\n")
		if want := "clone(0 = 0x0) " + c.want; first != want {
			t.Errorf("lab %v:\ngot  %q\nwant %q", c.lab, first, want)
		}
	}
}
