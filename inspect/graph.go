package inspect

import "github.com/nsinspect/nsinspect/model"

// GraphRoots finds each -p task of graph among the pass's tasks. A task the pass
// read is a root. For one it has not read, /proc says why: it does not
// exist (exit 2), its namespaces may not be read (exit 4), or it appeared
// after the pass (exit 5).
func GraphRoots(m *model.Model, targets []Target) ([]model.TaskRef, error) {
	var roots []model.TaskRef
	for _, tg := range targets {
		// Resolved (a container to its init) and pinned while the pass
		// is searched, so the root found is the task named.
		p, err := openTask(tg.Arg)
		if err != nil {
			return nil, err
		}
		if t := m.Task(p.PID, p.TID); t != nil && t.Readable() {
			roots = append(roots, model.TaskRef{PID: p.PID, TID: p.TID})
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
	return roots, nil
}
