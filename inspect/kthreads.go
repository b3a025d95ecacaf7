package inspect

import "github.com/nsinspect/nsinspect/model"

// kthreaddPID is the kernel thread that forks all others.
const kthreaddPID = 2

// Kthreads is `kthreads --json`: the source that ran and the list.
type Kthreads struct {
	PassHead
	Kthreads []Kthread `json:"kthreads"`
}

type Kthread struct {
	PID   int    `json:"pid"`
	PPid  int    `json:"ppid"`
	Comm  string `json:"comm"`
	State string `json:"state"` // one letter, as in stat
	CPUs  string `json:"cpus"`  // Cpus_allowed_list: the affinity
}

// KthreadsOf is the kthreads view of one discovery pass: kthreadd and the
// kernel threads it forked. The pass read each task through one pinned
// /proc directory, so a task's stat and status belong to that task.
func KthreadsOf(m *model.Model) Kthreads {
	list := []Kthread{}
	for _, t := range m.Tasks {
		if t.Kernel && !t.IsThread() && (t.PID == kthreaddPID || t.PPID == kthreaddPID) {
			list = append(list, Kthread{PID: t.PID, PPid: t.PPID, Comm: t.Comm, State: string(t.State), CPUs: t.Affinity})
		}
	}
	return Kthreads{PassHead: PassHead{Source: m.Source}, Kthreads: list}
}
