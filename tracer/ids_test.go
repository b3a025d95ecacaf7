package tracer

import (
	"testing"
	"unsafe"

	"github.com/nsinspect/nsinspect/internal/taskobj"
)

func raw[T any](r *T) []byte { return unsafe.Slice((*byte)(unsafe.Pointer(r)), unsafe.Sizeof(*r)) }

// Ids are given in the order met; a forgotten hash and one pushed out by
// the bound get a new id when met again; the table never holds more than
// its bound.
func TestIDTable(t *testing.T) {
	ids := newIDTable(3)
	for i, h := range []uint64{0xa, 0xb, 0xc} {
		if got := ids.id(h); got != uint64(i+1) {
			t.Errorf("id(%#x) = %d, want %d", h, got, i+1)
		}
	}
	if ids.id(0) != 0 || ids.id(0xa) != 1 {
		t.Error("0 is not 0, or 0xa lost its id")
	}
	// 0xb is now the one met least recently: 0xd pushes it out.
	if ids.id(0xd) != 4 || ids.len() != 3 || ids.id(0xb) != 5 {
		t.Errorf("past the bound: len %d, 0xb's id %d", ids.len(), ids.id(0xb))
	}
	ids.forget(0xc)
	ids.forget(0xe) // never met: nothing
	if ids.id(0xc) != 6 {
		t.Error("a forgotten hash kept its id")
	}
	big := newIDTable(100)
	for h := uint64(1); h <= 10_000; h++ {
		big.id(h)
	}
	if big.len() != 100 || len(big.byHash) != 100 {
		t.Errorf("10,000 hashes under a bound of 100: %d entries, %d in the map", big.len(), len(big.byHash))
	}
}

// An exit record makes the decoder forget the objects it freed, so that
// the next object at the same address gets a new id; it is an event only
// when it ends a followed process.
func TestDecodeExitForgets(t *testing.T) {
	tr := &Tracer{}
	tr.newIDs(maxIDs)
	fork := traceNstEvent{Kind: uint32(Fork)}
	fork.A.Obj[taskobj.Files], fork.B.Obj[taskobj.Files] = 0x1234, 0x1234
	fork.A.Obj[taskobj.MM], fork.B.Obj[taskobj.MM] = 0x99, 0x77
	e, err := tr.decode(raw(&fork))
	if err != nil {
		t.Fatal(err)
	}
	if e.A.Obj[taskobj.Files] != 1 || e.B.Obj[taskobj.Files] != 1 || e.A.Obj[taskobj.MM] != 1 || e.B.Obj[taskobj.MM] != 2 {
		t.Fatalf("ids %v %v", e.A.Obj, e.B.Obj)
	}
	exit := traceNstExited{Kind: uint32(Exit), Tgid: 7, Tid: 7}
	exit.Freed[taskobj.Files] = 0x1234
	exit.Freed[taskobj.MM] = 0x77
	if e, err := tr.decode(raw(&exit)); e != nil || err != nil {
		t.Fatalf("an exit of a process not followed: %+v, %v", e, err)
	}
	if tr.ids[taskobj.Files].len() != 0 || tr.ids[taskobj.MM].len() != 1 {
		t.Errorf("after the exit: %d files, %d mm ids kept", tr.ids[taskobj.Files].len(), tr.ids[taskobj.MM].len())
	}
	e, _ = tr.decode(raw(&fork))
	if e.A.Obj[taskobj.Files] != 2 || e.A.Obj[taskobj.MM] != 1 || e.B.Obj[taskobj.MM] != 3 {
		t.Errorf("after the exit: ids %v %v, want a new files id and mm 1, 3", e.A.Obj, e.B.Obj)
	}
	exit.Followed = 1
	if e, err := tr.decode(raw(&exit)); err != nil || e == nil || e.Kind != Exit || e.A.TGID != 7 {
		t.Errorf("the exit of a followed process: %+v, %v", e, err)
	}
	if _, err := tr.decode(raw(&exit)[:8]); err == nil {
		t.Error("a short exit record was accepted")
	}
}
