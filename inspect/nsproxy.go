package inspect

import (
	"slices"

	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/nsgroup"
	"github.com/nsinspect/nsinspect/schema"
)

// NSProxyNote is said in every output: it is the limit of what userspace
// can know.
const NSProxyNote = "userspace sees each task's set of namespaces, not its struct nsproxy pointer: tasks in one set can share one nsproxy, tasks in different sets cannot"

// NSProxyBPFNote replaces NSProxyNote when the BPF source read the
// pointers themselves.
const NSProxyBPFNote = "/proc shows each task's set of namespaces, not its struct nsproxy pointer; here BPF read task->nsproxy itself, shown as an id numbered per run: tasks with one id share one struct nsproxy, and an instance marked * has the same set as another, because setns(2) always gives the caller a new nsproxy, even into namespaces it is already in (nsenter)"

// NSProxySets is the grouping of every task by its nsproxy set, and the
// note saying what userspace can know of it.
type NSProxySets struct {
	Note      string   `json:"note"`
	Links     []string `json:"nsproxy_links"`
	TaskCount int      `json:"task_count"`
	SetCount  int      `json:"set_count"`
	nsgroup.Groups
}

// NSProxy is `nsproxy --json`: NSProxySets and the source that read
// the tasks.
type NSProxy struct {
	SchemaVersion schema.Version `json:"schema_version"`
	NSProxySets
	Source        string `json:"source"`
	InstanceCount int    `json:"nsproxy_count"` // 0 from /proc
	// Task is nsproxy -p's task; nil for the whole host.
	Task *NSProxyTask `json:"task,omitempty"`
}

// NewNSProxy is the nsproxy view of ntasks tasks grouped as g.
func NewNSProxy(source string, ntasks int, g nsgroup.Groups) NSProxy {
	note := NSProxyNote
	if g.Instances != nil {
		note = NSProxyBPFNote
	}
	return NSProxy{NSProxySets: NSProxySets{note, nsgroup.NSProxyLinks, ntasks, len(g.Sets), g}, Source: source, InstanceCount: len(g.Instances)}
}

// NSProxyOf groups the tasks of one discovery pass by nsproxy.
func NSProxyOf(m *model.Model) NSProxy {
	return NewNSProxy(m.Source, len(m.Tasks), nsgroup.ByNSProxy(m.Tasks))
}

// NSProxyView is `nsproxy [-p TASK]`: the whole pass, or with a task
// ("" for none) NSProxyOfTask.
func NSProxyView(m *model.Model, task string) (NSProxy, error) {
	if task == "" {
		return NSProxyOf(m), nil
	}
	return NSProxyOfTask(m, task)
}

// NSProxyTask is the task nsproxy -p named: the view is its nsproxy and
// the tasks that share it.
type NSProxyTask struct {
	Arg  string `json:"arg"`
	PID  int    `json:"pid"`
	TID  int    `json:"tid"`
	Comm string `json:"comm"`
}

// NSProxyOfTask is nsproxy -p TASK: the nsproxy view of one pass cut to
// the task's own. From /proc that is its set (every task with the same
// nsproxy namespaces, which is all userspace can tell); from BPF the
// struct nsproxy instance it points to and the tasks pointing to it. A
// zombie has none: the view lists it alone, with what it still pins.
func NSProxyOfTask(m *model.Model, arg string) (NSProxy, error) {
	t, err := ParseTarget(arg)
	if err != nil {
		return NSProxy{}, err
	}
	found, err := FindTasks(m, []Target{t})
	if err != nil {
		return NSProxy{}, err
	}
	ref := found[0]
	return NSProxyOf(m).Cut(NSProxyTask{Arg: arg, PID: ref.PID, TID: ref.TID, Comm: m.Task(ref.PID, ref.TID).Comm}), nil
}

// Cut is the view cut to task's nsproxy (NSProxyOfTask) and the tasks
// that share it.
func (all NSProxy) Cut(task NSProxyTask) NSProxy {
	g := cutGroups(all.Groups, nsgroup.TaskRef{PID: task.PID, TID: task.TID})
	switch {
	case g.InitSet >= 0:
	case all.InitSet >= 0:
		g.InitNote = "pid 1 does not share the nsproxy of " + task.Arg
	default:
		g.InitNote = all.InitNote
	}
	out := NewNSProxy(all.Source, tasksIn(g), g)
	out.Task = &task
	return out
}

// cutGroups keeps of g the set (and, from BPF, the instance) of task
// ref, or ref as a zombie.
func cutGroups(g nsgroup.Groups, ref nsgroup.TaskRef) nsgroup.Groups {
	has := func(ts []nsgroup.TaskRef) bool {
		return slices.ContainsFunc(ts, func(t nsgroup.TaskRef) bool { return t.PID == ref.PID && t.TID == ref.TID })
	}
	out := nsgroup.Groups{Sets: []nsgroup.Set{}, Zombies: []nsgroup.Zombie{}, Unreadable: []nsgroup.Unreadable{}, InitSet: -1}
	if g.Instances != nil {
		out.Instances = []nsgroup.Instance{}
	}
	for _, s := range g.Sets {
		if !has(s.Tasks) {
			continue
		}
		for _, x := range g.Instances {
			if has(x.Tasks) {
				x.Set = 0
				s.Tasks, s.Context, s.NSProxies, s.Init = x.Tasks, x.Context, []uint64{x.ID}, x.Init
				out.Instances = append(out.Instances, x)
			}
		}
		out.Sets = append(out.Sets, s)
		if s.Init {
			out.InitSet = 0
		}
	}
	for _, z := range g.Zombies {
		if z.PID == ref.PID && z.TID == ref.TID {
			out.Zombies = append(out.Zombies, z)
		}
	}
	return out
}

func tasksIn(g nsgroup.Groups) int {
	n := len(g.Zombies)
	for _, s := range g.Sets {
		n += len(s.Tasks)
	}
	return n
}
