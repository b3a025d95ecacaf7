package nsgroup

import (
	"slices"
	"testing"

	"github.com/nsinspect/nsinspect/internal/taskobj"
	"github.com/nsinspect/nsinspect/model"
)

// withProxy gives a record the nsproxy id a BPF pass would.
func withProxy(t *model.Task, id uint64) *model.Task {
	t.Objects = make([]uint64, taskobj.Count)
	t.Objects[taskobj.NSProxy] = id
	return t
}

func TestByNSProxyInstances(t *testing.T) {
	g := ByNSProxy([]*model.Task{
		withProxy(record(1, 1, nil), 1),
		withProxy(record(2, 2, nil), 1),
		withProxy(record(2, 3, nil), 1),
		withProxy(record(5, 5, nil), 2), // nsenter -u into its own uts: a copy
		withProxy(record(6, 6, map[string]uint64{"net": 7}), 3),
		// id 3 met again with another set: the memory of a freed
		// nsproxy reused during the walk.
		withProxy(record(7, 7, map[string]uint64{"uts": 8}), 3),
		// An exiting task whose nsproxy is already NULL.
		withProxy(record(8, 8, nil), 0),
	})
	type want struct {
		id, set  int
		tids     []int
		sameAs   []uint64
		init     bool
		setProxy []uint64
	}
	wants := []want{
		{1, 0, []int{1, 2, 3}, []uint64{2}, true, []uint64{1, 2}},
		{2, 0, []int{5}, []uint64{1}, false, []uint64{1, 2}},
		{3, 1, []int{6}, []uint64{}, false, []uint64{3}},
		{3, 2, []int{7}, []uint64{}, false, []uint64{3}},
	}
	if len(g.Instances) != len(wants) {
		t.Fatalf("%d instances, want %d: %+v", len(g.Instances), len(wants), g.Instances)
	}
	for i, w := range wants {
		in := g.Instances[i]
		var tids []int
		for _, r := range in.Tasks {
			tids = append(tids, r.TID)
		}
		if int(in.ID) != w.id || in.Set != w.set || !slices.Equal(tids, w.tids) || !slices.Equal(in.SameSetAs, w.sameAs) || in.Init != w.init {
			t.Errorf("instance %d: id %d set %d tasks %v same_set_as %v init %t; want id %d set %d tasks %v same_set_as %v init %t",
				i, in.ID, in.Set, tids, in.SameSetAs, in.Init, w.id, w.set, w.tids, w.sameAs, w.init)
		}
		if got := g.Sets[in.Set].NSProxies; !slices.Equal(got, w.setProxy) {
			t.Errorf("set %d: nsproxies %v, want %v", in.Set, got, w.setProxy)
		}
		if in.Shared() != (len(w.sameAs) > 0) {
			t.Errorf("instance %d: Shared() %t", i, in.Shared())
		}
	}
	if s := g.Sets[0]; !slices.Equal(tids(s), []int{1, 2, 3, 5, 8}) {
		t.Errorf("set 0 has tasks %v: a task without an nsproxy id still belongs to its set", tids(s))
	}
}

func TestByNSProxyNoInstancesFromProc(t *testing.T) {
	g := ByNSProxy([]*model.Task{record(1, 1, nil), record(2, 2, nil)})
	if g.Instances != nil {
		t.Errorf("tasks without nsproxy ids gave instances %+v, want nil", g.Instances)
	}
	if g.Sets[0].NSProxies != nil {
		t.Errorf("set nsproxies %v, want none", g.Sets[0].NSProxies)
	}
}
