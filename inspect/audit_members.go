package inspect

import (
	"fmt"
	"os"
	"slices"
	"strconv"

	"github.com/nsinspect/nsinspect/engine"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/posture"
	"github.com/nsinspect/nsinspect/procinfo"
)

// containerMembers finds the container's other processes (those whose
// cgroup names the same container id) whose namespace links differ from
// its init's, and folds what they share with the reference into facts:
// a process that joined the host's net namespace after the container
// started makes net shared, with that process as the evidence. The
// engine's declaration cannot show such a process; the kernel does.
//
// Each member is pinned while it is read and dropped if it exited
// meanwhile (its PID may already be another process's).
func containerMembers(init *procinfo.Proc, id string, ref *procinfo.Proc, facts *posture.Facts) []Member {
	initLinks := nsLinks(init)
	var refLinks map[string]namespaces.NS
	if ref != nil {
		refLinks = nsLinks(ref)
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []Member
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == init.PID {
			continue
		}
		p, err := procinfo.Open(pid)
		if err != nil {
			continue
		}
		m, ok := member(p, id, initLinks)
		if ok && p.Alive() == nil {
			out = append(out, m)
			foldMember(facts, m, refLinks)
		}
		p.Close()
	}
	slices.SortFunc(out, func(a, b Member) int { return a.PID - b.PID })
	return out
}

// member reads one process: ok when it is in the container and some link
// differs from init's.
func member(p *procinfo.Proc, id string, initLinks map[string]namespaces.NS) (Member, bool) {
	cgs, err := p.Cgroups()
	if err != nil {
		return Member{}, false
	}
	if c := engine.FromCgroups(cgs); c == nil || c.ID != id {
		return Member{}, false
	}
	m := Member{PID: p.PID, Comm: commOf(p), Differs: map[string]namespaces.NS{}}
	for link, l := range nsLinks(p) {
		if in, ok := initLinks[link]; ok && l.Key() != in.Key() {
			m.Differs[link] = l
		}
	}
	return m, len(m.Differs) > 0
}

// foldMember marks a link shared where the member is in the reference's
// namespace and init is not.
func foldMember(facts *posture.Facts, m Member, refLinks map[string]namespaces.NS) {
	for link, l := range m.Differs {
		ns, ok := facts.Namespaces[link]
		ref, inRef := refLinks[link]
		if !ok || !inRef || l.Key() != ref.Key() || ns.Shared {
			continue
		}
		ns.Shared, ns.Proven = true, true
		ns.Why = fmt.Sprintf("pid %d (%s), a process of this container, is in the reference's %s namespace %s; the container's init is not (%s)", m.PID, m.Comm, link, l, ns.Target)
		ns.Evidence = append(ns.Evidence, posture.Evidence{Call: fmt.Sprintf("open /proc/%d/ns/%s: %s, %s (the reference's)", m.PID, link, l, l.IDText())})
		facts.Namespaces[link] = ns
	}
}

// nsLinks identifies the namespaces of a task's ten ns links; an
// unreadable link is left out.
func nsLinks(p *procinfo.Proc) map[string]namespaces.NS {
	out := make(map[string]namespaces.NS, len(namespaces.Links))
	for _, l := range namespaces.Links {
		if ns, err := p.Namespace(l.Name); err == nil {
			out[l.Name] = ns
		}
	}
	return out
}
