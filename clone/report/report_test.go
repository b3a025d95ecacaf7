package report

import (
	"strings"
	"testing"

	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/procinfo"
)

func ptr(b bool) *bool { return &b }

// Judge agrees a resource only when identity and probe (if one decided)
// both say what clone(2) expects, and words each disagreement.
func TestCloneJudge(t *testing.T) {
	r := &Clone{
		Resources: []Resource{
			{Name: "net", Shared: ptr(false), Expected: false},
			{Name: "files", Shared: ptr(true), Expected: true},
			{Name: "fs", Shared: ptr(false), Expected: true, Why: "CLONE_FS given"},
			{Name: "io", Expected: false},
			{Name: "uts", Shared: ptr(true), Expected: true},
		},
		Probes: []Probe{
			{Name: "net link", Resource: "net", Shared: ptr(false)},
			{Name: "fd", Resource: "files", Shared: ptr(true)},
			{Name: "hostname", Resource: "uts", Shared: ptr(false)},
			{Name: "mount", Resource: "mnt", Error: "could not run"},
		},
	}
	r.Judge()
	agree := map[string]bool{}
	for _, res := range r.Resources {
		agree[res.Name] = res.Agree
	}
	want := map[string]bool{"net": true, "files": true, "fs": false, "io": false, "uts": false}
	for name, w := range want {
		if agree[name] != w {
			t.Errorf("%s: agree %v, want %v", name, agree[name], w)
		}
	}
	if len(r.Disagreements) != 3 {
		t.Fatalf("disagreements %q, want fs, io and uts", r.Disagreements)
	}
	for _, d := range []string{
		"fs: expected shared (CLONE_FS given), identity says separate, no probe decided",
		"io: expected separate (), identity says indeterminate, no probe decided",
		"uts: expected shared (), identity says shared, probe says separate",
	} {
		found := false
		for _, got := range r.Disagreements {
			found = found || got == d
		}
		if !found {
			t.Errorf("no disagreement %q in %q", d, r.Disagreements)
		}
	}
	if r.Resources[4].Probe == nil || *r.Resources[4].Probe {
		t.Errorf("uts: probe verdict %v, want the hostname probe's separate", r.Resources[4].Probe)
	}
}

// unshare(CLONE_NEWNET|CLONE_NEWPID): net changes, pid stays, and
// pid_for_children must change and hold the next child.
func TestUnshareJudge(t *testing.T) {
	ns := func(link string, ino uint64) procinfo.NSLink {
		for _, l := range namespaces.Links {
			if l.Name == link {
				return procinfo.NSLink{Link: l, NS: namespaces.NS{Type: l.Type, Ino: ino}}
			}
		}
		t.Fatalf("no link %s", link)
		return procinfo.NSLink{}
	}
	before := []procinfo.NSLink{ns("net", 1), ns("pid", 2), ns("pid_for_children", 2), ns("uts", 3)}
	after := []procinfo.NSLink{ns("net", 10), ns("pid", 2), ns("pid_for_children", 20), ns("uts", 30)}
	const newNet, newPid = 0x40000000, 0x20000000
	r := &Unshare{Call: Call{Value: newNet | newPid}, Child: &Side{Namespaces: []NSEntry{{Link: "pid", Ino: 20}}}}
	r.Judge(before, before, after)
	got := map[string]LinkChange{}
	for _, l := range r.Links {
		got[l.Link] = l
	}
	if !got["net"].Agree || !got["pid"].Agree || !got["pid_for_children"].Agree || got["uts"].Agree {
		t.Errorf("links %+v: want net, pid, pid_for_children agreeing and uts (changed without CLONE_NEWUTS) not", r.Links)
	}
	if nc := got["pid_for_children"].NextChild; nc == nil || !*nc {
		t.Errorf("pid_for_children: next child in it = %v, want true", nc)
	}
	if len(r.Disagreements) != 1 || !strings.HasPrefix(r.Disagreements[0], "uts: expected unchanged, it changed") {
		t.Errorf("disagreements %q", r.Disagreements)
	}
}

// The child is in a pid namespace of its own only when its NSpid, read
// through the same /proc, is one level deeper than the parent's.
func TestCloneNewPidNS(t *testing.T) {
	for _, c := range []struct {
		parent, child []int
		want          bool
	}{
		{[]int{100, 2}, []int{101, 3}, false},   // both in the lab's
		{[]int{100, 2}, []int{101, 3, 1}, true}, // CLONE_NEWPID
		{[]int{100}, []int{101}, false},         // --host
		{nil, []int{101, 3}, false},             // the parent's NSpid was not read
	} {
		r := &Clone{Parent: &Side{NSpid: c.parent}, Relation: &Relation{ChildNSpid: c.child}}
		if got := r.NewPidNS(); got != c.want {
			t.Errorf("parent NSpid %v, child %v: NewPidNS %v, want %v", c.parent, c.child, got, c.want)
		}
	}
}
