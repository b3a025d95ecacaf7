package tracer

import "github.com/nsinspect/nsinspect/namespaces"

// nsNames are the namespaces this run's events named, by inode number:
// what a freed proc inode number was. A number is a namespace's from the
// namespace's birth to its death (proc_free_inum()), and the same number
// may then go to a /proc entry or another namespace; so a death forgets
// it, and a later event that names it again learns it anew. Past max
// entries an arbitrary one is dropped (its death, if it comes, is then
// not reported): memory stays bounded in a long watch. A nil *nsNames
// (a tracer that sees no deaths) keeps nothing, so that the events' hot
// path does not pay for it.
type nsNames struct {
	max   int
	byIno map[uint32]nsName
}

type nsName struct {
	typ namespaces.Type
	id  uint64
	// seededUntil is, for a number Seed gave and no event has named
	// since, the boottime at which the pass that found it ended; 0
	// otherwise.
	seededUntil uint64
}

func newNSNames(max int) *nsNames { return &nsNames{max: max, byIno: map[uint32]nsName{}} }

func (n *nsNames) learn(ino uint32, typ namespaces.Type, id uint64) {
	if n == nil {
		return
	}
	if _, ok := n.byIno[ino]; !ok && len(n.byIno) >= n.max {
		for k := range n.byIno {
			delete(n.byIno, k)
			break
		}
	}
	n.byIno[ino] = nsName{typ: typ, id: id}
}

// seed learns ino as a namespace a pass found alive, unless an event
// named it already.
func (n *nsNames) seed(ino uint32, typ namespaces.Type, id, until uint64) {
	if n == nil {
		return
	}
	if _, ok := n.byIno[ino]; ok {
		return
	}
	n.learn(ino, typ, id)
	n.byIno[ino] = nsName{typ: typ, id: id, seededUntil: until}
}

// forget reports what ino was, and forgets it.
func (n *nsNames) forget(ino uint32) (nsName, bool) {
	if n == nil {
		return nsName{}, false
	}
	v, ok := n.byIno[ino]
	if ok {
		delete(n.byIno, ino)
	}
	return v, ok
}
