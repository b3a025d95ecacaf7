package nsgroup

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"

	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/procinfo"
)

// Task is one task and the namespaces of its /proc/PID/ns links, in
// namespaces.Links order.
type Task struct {
	PID  int    `json:"pid"`
	TID  int    `json:"tid"` // PID for the thread-group leader
	PPID int    `json:"ppid"`
	Comm string `json:"comm"`
	// Zombie: the task has exited and is not reaped. It released its
	// nsproxy at exit, so only its pid and user links still resolve.
	Zombie bool `json:"zombie"`
	NS     []procinfo.NSLink
}

// IsThread reports whether t is a thread other than its group's leader.
func (t Task) IsThread() bool { return t.TID != t.PID }

// Walk reads every task under procinfo.Root: each process and each of its
// threads, pinned while read. A task that exits during the walk is left
// out; one whose namespaces cannot be read (a zombie has released them,
// ptrace access may be refused) is kept, with the error on each link.
// Every namespace found is given to h, which keeps the tasks' namespace
// identities comparable until it is closed.
func Walk(h *namespaces.Holder) ([]Task, error) {
	pids, err := numericNames(procinfo.Root)
	if err != nil {
		return nil, err
	}
	var out []Task
	for _, pid := range pids {
		tids, err := numericNames(procinfo.Root + "/" + strconv.Itoa(pid) + "/task")
		if err != nil {
			continue // exited since /proc was listed
		}
		for _, tid := range tids {
			t, err := ReadTask(pid, tid, h)
			if errors.Is(err, procinfo.ErrProcessGone) {
				continue
			}
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		}
	}
	return out, nil
}

// ReadTask pins thread tid of process pid and reads its comm, ppid and
// namespaces, giving them to h (nil: to nobody). The error matches
// procinfo.ErrProcessGone when the task exited.
func ReadTask(pid, tid int, h *namespaces.Holder) (Task, error) {
	p, err := procinfo.OpenTask(pid, tid)
	if err != nil {
		return Task{}, err
	}
	defer p.Close()
	st, err := p.Stat()
	if err != nil {
		if p.IsThread() && errors.Is(err, os.ErrNotExist) {
			// The pidfd pins the process, not the thread: a thread that
			// exited leaves ENOENT behind.
			return Task{}, fmt.Errorf("%w: %v", procinfo.ErrProcessGone, err)
		}
		return Task{}, err
	}
	ns, err := p.NamespacesHeld(h)
	if err != nil {
		return Task{}, err
	}
	if p.IsThread() && allFailed(ns) {
		if _, err := p.Stat(); err != nil {
			return Task{}, fmt.Errorf("%w: %v", procinfo.ErrProcessGone, err)
		}
	}
	return Task{PID: pid, TID: tid, PPID: st.PPID, Comm: st.Comm, Zombie: st.State == 'Z', NS: ns}, nil
}

func allFailed(ns []procinfo.NSLink) bool {
	for _, l := range ns {
		if l.Err == nil {
			return false
		}
	}
	return true
}

// numericNames lists the numeric entries of a /proc directory, sorted.
func numericNames(dir string) ([]int, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	var out []int
	for _, n := range names {
		if v, err := strconv.Atoi(n); err == nil {
			out = append(out, v)
		}
	}
	sort.Ints(out)
	return out, nil
}
