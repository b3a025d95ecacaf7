package inspect

import (
	"strings"

	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/nsgraph"
)

// ParseTargets parses the -p tasks of a view (graph -p, repeatable or
// comma-separated), each in the one target grammar, before the scan, so
// that a typo is reported before a pass is paid for.
func ParseTargets(args []string) ([]Target, error) {
	var out []Target
	for _, a := range args {
		t, err := ParseTarget(strings.TrimSpace(a))
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// FindTasks finds each -p task of a view among the pass's tasks. A task
// the pass read is found. For one it has not read, /proc says why: it
// does not exist (exit 2), its namespaces may not be read (exit 4), or it
// appeared after the pass (exit 5).
func FindTasks(m *model.Model, targets []Target) ([]model.TaskRef, error) {
	var found []model.TaskRef
	for _, tg := range targets {
		// Resolved (a container to its init) and pinned while the pass
		// is searched, so the task found is the task named.
		p, err := openTask(tg.Arg)
		if err != nil {
			return nil, err
		}
		if t := m.Task(p.PID, p.TID); t != nil && t.Readable() {
			found = append(found, model.TaskRef{PID: p.PID, TID: p.TID})
			p.Close()
			continue
		}
		_, err = p.Namespace("user") // a zombie's still resolves
		if err == nil {
			err = p.Alive()
		}
		p.Close()
		if err != nil {
			return nil, NSReadError(tg.Arg, p, err)
		}
		return nil, Undecidedf(nil, "-p %s: the task is not among those the scan read (it started after the scan, or the source missed it): run again, or try --source proc", tg.Arg)
	}
	return found, nil
}

// GraphOf is graph's picture of the pass: every task, or with -p
// targets, those tasks and their descendants.
func GraphOf(m *model.Model, targets []Target) (*nsgraph.Graph, error) {
	tasks := m.Tasks
	if len(targets) > 0 {
		roots, err := FindTasks(m, targets)
		if err != nil {
			return nil, err
		}
		tasks, _ = nsgraph.Subtree(tasks, roots)
	}
	return nsgraph.Processes(tasks), nil
}
