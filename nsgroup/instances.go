package nsgroup

import (
	"cmp"
	"slices"

	"github.com/nsinspect/nsinspect/internal/taskobj"
	"github.com/nsinspect/nsinspect/model"
)

// Instance is one struct nsproxy as a BPF pass saw it: the tasks whose
// task->nsproxy is one pointer. Tasks of one instance are always in one
// set; one set can have several instances, because setns(2) gives the
// caller a new nsproxy even when it joins namespaces it is already in
// (nsenter), and so does a fork after unshare(CLONE_NEWTIME).
type Instance struct {
	// ID is the opaque per-run id of the pointer (taskobj.NSProxy):
	// equal exactly when the pointers were, meaningless across runs.
	ID         uint64     `json:"id"`
	Set        int        `json:"set"` // index in Groups.Sets
	Namespaces []LinkNS   `json:"namespaces"`
	Tasks      []TaskRef  `json:"tasks"`
	Init       bool       `json:"init"`
	SameSetAs  []uint64   `json:"same_set_as"` // ids of the set's other instances
	Context    []LinkNSes `json:"context"`
}

// Shared reports whether another instance has the same namespace set.
func (in *Instance) Shared() bool { return len(in.SameSetAs) > 0 }

// instanceKey is an nsproxy id and a set key: see add.
type instanceKey struct {
	id  uint64
	set string
}

// byInstance collects tasks by nsproxy pointer while ByNSProxy groups
// them by set. key is the task's set key.
type byInstance struct {
	index map[instanceKey]int
	list  []Instance
	setOf []string // per list entry, its set key
}

// add records t, whose set key is key, under its nsproxy id. Tasks from
// /proc have no ids and are not recorded; nor is a task whose nsproxy
// was NULL (an exiting task: exit_task_namespaces ran).
func (b *byInstance) add(t *model.Task, key string, set []LinkNS, ref TaskRef) {
	if int(taskobj.NSProxy) >= len(t.Objects) || t.Objects[taskobj.NSProxy] == 0 {
		return
	}
	id := t.Objects[taskobj.NSProxy]
	// The iterator reads tasks one by one, not at one instant: an nsproxy
	// freed during the walk can have its memory, hence its id, reused by
	// a new one with another set. Keying by id and set keeps the two
	// apart instead of mixing their namespaces.
	k := instanceKey{id, key}
	i, ok := b.index[k]
	if !ok {
		i = len(b.list)
		b.index[k] = i
		b.list = append(b.list, Instance{ID: id, Namespaces: set, SameSetAs: []uint64{}})
		b.setOf = append(b.setOf, key)
	}
	in := &b.list[i]
	in.Tasks = append(in.Tasks, ref)
	in.Context = addContext(in.Context, t)
	in.Init = in.Init || (t.PID == 1 && t.TID == 1)
}

// finish links each instance to its set (setIndex maps set keys to their
// index in the sorted Groups.Sets), fills SameSetAs and the sets'
// NSProxies, and orders the instances by set, then largest first. It
// returns nil when no task had an id: the pass read /proc.
func (b *byInstance) finish(setIndex map[string]int, sets []Set) []Instance {
	if len(b.list) == 0 {
		return nil
	}
	for i := range b.list {
		b.list[i].Set = setIndex[b.setOf[i]]
	}
	slices.SortStableFunc(b.list, func(x, y Instance) int {
		return cmp.Or(cmp.Compare(x.Set, y.Set), cmp.Compare(len(y.Tasks), len(x.Tasks)), cmp.Compare(x.ID, y.ID))
	})
	for i := range b.list {
		s := &sets[b.list[i].Set]
		s.NSProxies = append(s.NSProxies, b.list[i].ID)
	}
	for i := range b.list {
		in := &b.list[i]
		for _, id := range sets[in.Set].NSProxies {
			if id != in.ID {
				in.SameSetAs = append(in.SameSetAs, id)
			}
		}
	}
	return b.list
}
