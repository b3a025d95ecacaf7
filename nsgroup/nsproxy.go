package nsgroup

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/namespaces"
)

// NSProxyLinks are the /proc/PID/ns links whose namespaces live in struct
// nsproxy: uts_ns, ipc_ns, mnt_ns, pid_ns_for_children, net_ns, time_ns,
// time_ns_for_children, cgroup_ns.
var NSProxyLinks = []string{"cgroup", "ipc", "mnt", "net", "pid_for_children", "time", "time_for_children", "uts"}

// ContextLinks are shown beside a set but are not in struct nsproxy: the
// user namespace is in the task's cred, the pid namespace in its struct pid.
var ContextLinks = []string{"pid", "user"}

// Set is one distinct set of nsproxy namespaces and the tasks in it.
type Set struct {
	Namespaces []LinkNS `json:"namespaces"` // NSProxyLinks order
	// Context lists, per ContextLinks entry, every namespace the set's
	// tasks are in: tasks with one nsproxy set can differ there.
	Context []LinkNSes `json:"context"`
	Tasks   []TaskRef  `json:"tasks"`
	Init    bool       `json:"init"` // pid 1 is in this set
	// NSProxies are the ids of the set's Instances, largest first; none
	// when the pass read /proc, which cannot see nsproxy pointers.
	NSProxies []uint64 `json:"nsproxy_ids,omitempty"`
}

// NS is a namespace with its parent (pid and user namespaces) and its
// owning user namespace (for a user namespace, its parent) where the
// kernel shows them. In JSON: the keys of namespaces.NS, plus "parent"
// and "owner" when set.
type NS struct {
	namespaces.NS
	Parent *namespaces.NS `json:"parent,omitempty"`
	Owner  *namespaces.NS `json:"owner,omitempty"`
}

func nsOf(n *model.Namespace) NS {
	out := NS{NS: n.NS}
	if n.Parent != nil {
		out.Parent = &n.Parent.NS
	}
	if n.Owner != nil {
		out.Owner = &n.Owner.NS
	}
	return out
}

// LinkNS is one link's namespace.
type LinkNS struct {
	Link string `json:"link"`
	NS   NS     `json:"namespace"`
}

func linkNS(name string, n *model.Namespace) LinkNS { return LinkNS{Link: name, NS: nsOf(n)} }

// LinkNSes is every namespace seen behind one link.
type LinkNSes struct {
	Link string `json:"link"`
	NS   []NS   `json:"namespaces"`
}

// TaskRef names a task.
type TaskRef struct {
	PID  int    `json:"pid"`
	TID  int    `json:"tid"`
	Comm string `json:"comm"`
}

// Unreadable is a task whose nsproxy set could not be read.
type Unreadable struct {
	TaskRef
	Error string `json:"error"`
}

// Zombie is a task that exited and released its nsproxy
// (exit_task_namespaces) but is not reaped yet: it is in no set, and still
// pins the namespaces listed, its pid namespace through its struct pid and
// its user namespace through its cred.
type Zombie struct {
	TaskRef
	Pins []LinkNS `json:"pins"`
}

// Groups is the result of ByNSProxy.
type Groups struct {
	Sets       []Set        `json:"sets"` // largest first
	Zombies    []Zombie     `json:"zombies"`
	Unreadable []Unreadable `json:"unreadable"`
	// InitSet is the index in Sets of pid 1's set, -1 when pid 1 was not
	// among the tasks or its namespaces could not be read; InitNote says
	// which.
	InitSet  int    `json:"init_set"`
	InitNote string `json:"init_note,omitempty"`
	// Instances are the struct nsproxy instances of a BPF pass, ordered
	// by set and largest first; nil (JSON null) when the tasks came from
	// /proc, which shows sets only.
	Instances []Instance `json:"nsproxies"`
}

// ByNSProxy groups tasks by their exact set of nsproxy namespaces and,
// when the tasks carry nsproxy ids (the BPF source), by the struct nsproxy
// itself.
func ByNSProxy(tasks []*model.Task) Groups {
	g := Groups{Sets: []Set{}, Zombies: []Zombie{}, Unreadable: []Unreadable{}, InitSet: -1}
	index := map[string]int{}
	var keys []string // per set, its key
	inst := &byInstance{index: map[instanceKey]int{}}
	var buf []byte
	for _, t := range tasks {
		ref := TaskRef{PID: t.PID, TID: t.TID, Comm: t.Comm}
		if t.Zombie() {
			z := Zombie{TaskRef: ref, Pins: []LinkNS{}}
			for i, n := range t.NS {
				if n != nil {
					z.Pins = append(z.Pins, linkNS(namespaces.Links[i].Name, n))
				}
			}
			g.Zombies = append(g.Zombies, z)
			continue
		}
		key, b, err := nsproxyKey(t, buf)
		buf = b
		if err != nil {
			g.Unreadable = append(g.Unreadable, Unreadable{ref, err.Error()})
			continue
		}
		i, ok := index[key]
		if !ok {
			i = len(g.Sets)
			index[key] = i
			g.Sets = append(g.Sets, Set{Namespaces: nsproxySet(t)})
			keys = append(keys, key)
		}
		s := &g.Sets[i]
		s.Tasks = append(s.Tasks, ref)
		s.Context = addContext(s.Context, t)
		if t.PID == 1 && t.TID == 1 {
			s.Init = true
		}
		inst.add(t, key, g.Sets[i].Namespaces, ref)
	}
	g.Sets = sortSets(g.Sets, keys, index)
	for i, s := range g.Sets {
		if s.Init {
			g.InitSet = i
		}
	}
	g.Instances = inst.finish(index, g.Sets)
	if g.InitSet < 0 {
		g.InitNote = "pid 1 was not read"
		for _, u := range g.Unreadable {
			if u.PID == 1 && u.TID == 1 {
				g.InitNote = "pid 1's namespaces cannot be read: " + u.Error
			}
		}
	}
	return g
}

// sortSets orders sets largest first, stably, and moves each key's entry
// in index (keys[i] is the key of sets[i]) to its set's new place.
func sortSets(sets []Set, keys []string, index map[string]int) []Set {
	order := make([]int, len(sets)) // new place -> old place
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return len(sets[order[i]].Tasks) > len(sets[order[j]].Tasks) })
	sorted := make([]Set, len(sets))
	for to, from := range order {
		sorted[to] = sets[from]
		index[keys[from]] = to
	}
	return sorted
}

// nsproxyKey is the identity of t's nsproxy set: its namespaces' keys
// (namespaces.Key's form, each followed by a comma), built in buf, which
// it returns for the next call; a task's set itself is nsproxySet's.
func nsproxyKey(t *model.Task, buf []byte) (string, []byte, error) {
	buf = buf[:0]
	for _, name := range NSProxyLinks {
		n, why := t.Link(name)
		if n == nil {
			return "", buf, fmt.Errorf("ns/%s: %s", name, why)
		}
		k := n.Key()
		if k.ID != 0 {
			buf = strconv.AppendUint(append(buf, "id:"...), k.ID, 10)
		} else {
			buf = strconv.AppendUint(append(strconv.AppendUint(append(buf, "ino:"...), k.Dev, 10), ':'), k.Ino, 10)
		}
		buf = append(buf, ',')
	}
	return string(buf), buf, nil
}

// nsproxySet is t's nsproxy set, whose links nsproxyKey found readable.
func nsproxySet(t *model.Task) []LinkNS {
	set := make([]LinkNS, 0, len(NSProxyLinks))
	for _, name := range NSProxyLinks {
		n, _ := t.Link(name)
		set = append(set, linkNS(name, n))
	}
	return set
}

func addContext(ctx []LinkNSes, t *model.Task) []LinkNSes {
	if ctx == nil {
		for _, name := range ContextLinks {
			ctx = append(ctx, LinkNSes{Link: name})
		}
	}
	for i := range ctx {
		n, _ := t.Link(ctx[i].Link)
		if n == nil {
			continue
		}
		seen := false
		for _, m := range ctx[i].NS {
			seen = seen || m.Same(n.NS)
		}
		if !seen {
			ctx[i].NS = append(ctx[i].NS, nsOf(n))
		}
	}
	return ctx
}
