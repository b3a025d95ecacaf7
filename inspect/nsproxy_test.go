package inspect

import (
	"testing"

	"github.com/nsinspect/nsinspect/nsgroup"
)

// nsproxy -p keeps the task's own set (from /proc) or the struct nsproxy
// instance it points to (from BPF), and nothing else.
func TestCutGroups(t *testing.T) {
	ref := func(pid, tid int) nsgroup.TaskRef { return nsgroup.TaskRef{PID: pid, TID: tid} }
	g := nsgroup.Groups{
		Sets: []nsgroup.Set{
			{Tasks: []nsgroup.TaskRef{ref(1, 1), ref(2, 2), ref(3, 3)}, Init: true, NSProxies: []uint64{1, 2}},
			{Tasks: []nsgroup.TaskRef{ref(700, 700), ref(700, 701)}, NSProxies: []uint64{3}},
		},
		Zombies: []nsgroup.Zombie{{TaskRef: ref(9, 9)}},
		InitSet: 0,
		Instances: []nsgroup.Instance{
			{ID: 1, Set: 0, Tasks: []nsgroup.TaskRef{ref(1, 1), ref(2, 2)}, Init: true, SameSetAs: []uint64{2}},
			{ID: 2, Set: 0, Tasks: []nsgroup.TaskRef{ref(3, 3)}, SameSetAs: []uint64{1}},
			{ID: 3, Set: 1, Tasks: []nsgroup.TaskRef{ref(700, 700), ref(700, 701)}},
		},
	}
	proc := g
	proc.Instances = nil
	for _, c := range []struct {
		name       string
		g          nsgroup.Groups
		task       nsgroup.TaskRef
		tasks      int
		instance   uint64 // 0: none
		initSet    int
		zombieOnly bool
	}{
		{"proc, init's set", proc, ref(3, 3), 3, 0, 0, false},
		{"proc, a thread", proc, ref(700, 701), 2, 0, -1, false},
		{"bpf, a copy of init's set", g, ref(3, 3), 1, 2, -1, false},
		{"bpf, init's own", g, ref(2, 2), 2, 1, 0, false},
		{"a zombie", g, ref(9, 9), 1, 0, -1, true},
	} {
		out := cutGroups(c.g, c.task)
		if n := tasksIn(out); n != c.tasks {
			t.Errorf("%s: %d tasks, want %d", c.name, n, c.tasks)
		}
		if out.InitSet != c.initSet {
			t.Errorf("%s: init_set %d, want %d", c.name, out.InitSet, c.initSet)
		}
		if c.zombieOnly {
			if len(out.Sets) != 0 || len(out.Zombies) != 1 {
				t.Errorf("%s: %d sets and %d zombies, want the zombie alone", c.name, len(out.Sets), len(out.Zombies))
			}
			continue
		}
		if len(out.Sets) != 1 || len(out.Zombies) != 0 {
			t.Fatalf("%s: %d sets and %d zombies, want one set", c.name, len(out.Sets), len(out.Zombies))
		}
		if (c.g.Instances == nil) != (out.Instances == nil) {
			t.Errorf("%s: instances %v: a /proc view must keep none (null), a BPF one a list", c.name, out.Instances)
		}
		if c.instance != 0 && (len(out.Instances) != 1 || out.Instances[0].ID != c.instance || out.Instances[0].Set != 0) {
			t.Errorf("%s: instances %+v, want nsproxy %d alone, in set 0", c.name, out.Instances, c.instance)
		}
	}
}
