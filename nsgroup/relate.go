package nsgroup

import (
	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/linux"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/procinfo"
)

// Relation is where one namespace hangs in the hierarchy: its parent (pid
// and user namespaces, NS_GET_PARENT) and its owning user namespace
// (NS_GET_USERNS; for a user namespace that is its parent, so only Parent
// is set). Nil where the kernel gives none: the top as nsinspect sees it,
// or an ancestor outside nsinspect's own user namespace (EPERM).
type Relation struct {
	NS     namespaces.NS  `json:"ns"`
	Parent *namespaces.NS `json:"parent,omitempty"`
	Owner  *namespaces.NS `json:"owner,omitempty"`
	// Held is false for an ancestor reached only through parent or owner
	// links: no task in the walk was in it.
	Held bool `json:"held"`
}

// Relate finds the parent and owner of every namespace the tasks are in,
// and of their ancestors in turn, keyed by namespaces.Key. It opens each
// namespace through a task that holds it, and checks the identity of what
// it opened; a namespace no task still holds is left without relations.
// The keys are valid while the Holder the tasks were walked with is open;
// the ancestors it opens are given to h too.
func Relate(tasks []Task, h *namespaces.Holder) map[namespaces.Key]*Relation {
	rels := map[namespaces.Key]*Relation{}
	for _, t := range tasks {
		for _, l := range t.NS {
			if l.Err != nil {
				continue
			}
			if r, ok := rels[l.NS.Key()]; ok {
				r.Held = true
				continue
			}
			rels[l.NS.Key()] = &Relation{NS: l.NS, Held: true}
			relateThrough(t, l, rels, h)
		}
	}
	return rels
}

// relateThrough opens l's namespace through t and climbs from it.
func relateThrough(t Task, l procinfo.NSLink, rels map[namespaces.Key]*Relation, h *namespaces.Holder) {
	p, err := procinfo.OpenTask(t.PID, t.TID)
	if err != nil {
		return
	}
	defer p.Close()
	fd, err := p.OpenNS(l.Link.Name)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	// The task may have moved (setns, unshare) since it was read.
	if ns, err := namespaces.FromFD(fd); err != nil || !ns.Same(l.NS) {
		return
	}
	climb(fd, rels[l.NS.Key()], rels, h)
}

// climb fills r's relations from the nsfs fd on r's namespace and climbs
// to each relative that is new.
func climb(fd int, r *Relation, rels map[namespaces.Key]*Relation, h *namespaces.Holder) {
	get := []struct {
		ioctl func(int) (int, error)
		dst   **namespaces.NS
		ok    bool
	}{
		{linux.NsGetParent, &r.Parent, r.NS.Type.Hierarchical()},
		{linux.NsGetUserns, &r.Owner, r.NS.Type != namespaces.User},
	}
	for _, g := range get {
		if !g.ok {
			continue
		}
		rfd, err := g.ioctl(fd)
		if err != nil {
			continue // EPERM at the top, EINVAL where there is none
		}
		rel, err := namespaces.FromFD(rfd)
		if err != nil {
			unix.Close(rfd)
			continue
		}
		*g.dst = &rel
		if _, seen := rels[rel.Key()]; !seen {
			rels[rel.Key()] = &Relation{NS: rel}
			climb(rfd, rels[rel.Key()], rels, h)
		}
		h.Hold(rfd, rel)
	}
}
