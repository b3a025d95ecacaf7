package inspect

import (
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
