package tracer

import "container/list"

// maxIDs bounds each kind's id table: about 6 MiB for the nine kinds.
const maxIDs = 1 << 16

// idTable numbers the keyed hashes of one kind of object 1, 2, ... in the
// order met, so that one object keeps one id while it lives. An entry is
// dropped when the programs report its object freed (its last holder
// exited: struct nst_exited), so that memory that then holds another
// object of the kind gives it a new id; and, past max entries, the one
// met least recently is dropped (an object whose death was not seen:
// freed by exec or unshare, or by a holder that exited while another
// task still held a reference). Memory stays bounded in a long watch.
type idTable struct {
	max    int
	next   uint64
	byHash map[uint64]*list.Element
	recent *list.List // of *idEntry, the most recently met first
}

type idEntry struct{ hash, id uint64 }

func newIDTable(max int) *idTable {
	return &idTable{max: max, byHash: map[uint64]*list.Element{}, recent: list.New()}
}

// id is hash's id, a new one for a hash not in the table. 0 stays 0 (a
// NULL pointer).
func (t *idTable) id(hash uint64) uint64 {
	if hash == 0 {
		return 0
	}
	if el, ok := t.byHash[hash]; ok {
		t.recent.MoveToFront(el)
		return el.Value.(*idEntry).id
	}
	t.next++
	t.byHash[hash] = t.recent.PushFront(&idEntry{hash, t.next})
	if t.recent.Len() > t.max {
		t.drop(t.recent.Back())
	}
	return t.next
}

// forget drops hash: its object was freed.
func (t *idTable) forget(hash uint64) {
	if el, ok := t.byHash[hash]; ok {
		t.drop(el)
	}
}

func (t *idTable) drop(el *list.Element) {
	t.recent.Remove(el)
	delete(t.byHash, el.Value.(*idEntry).hash)
}

func (t *idTable) len() int { return t.recent.Len() }
