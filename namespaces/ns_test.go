package namespaces

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

func TestSameAndKey(t *testing.T) {
	withID := func(id, ino uint64) NS { return NS{Type: Net, ID: id, Ino: ino, Dev: 4} }
	cases := []struct {
		a, b NS
		same bool
	}{
		{withID(3, 100), withID(3, 100), true},
		{withID(3, 100), withID(4, 100), false}, // an id outranks a reused inode
		{withID(0, 100), withID(0, 100), true},  // no NS_GET_ID: the held inode
		{withID(0, 100), withID(0, 101), false},
		{NS{Ino: 100, Dev: 4}, NS{Ino: 100, Dev: 5}, false},
		{NS{}, NS{}, false}, // nothing identifies an empty NS
	}
	for _, c := range cases {
		if got := c.a.Same(c.b); got != c.same {
			t.Errorf("%+v.Same(%+v) = %t, want %t", c.a, c.b, got, c.same)
		}
		if c.a.Ino != 0 && (c.a.Key() == c.b.Key()) != c.same {
			t.Errorf("keys of %+v and %+v: equal %t, want %t", c.a, c.b, !c.same, c.same)
		}
	}
	if k := withID(3, 100).Key().String(); k != "id:3" {
		t.Errorf("key with an id: %q", k)
	}
	if k := withID(0, 100).Key().String(); k != "ino:4:100" {
		t.Errorf("key without an id: %q", k)
	}
}

// TestHolderKeepsOneFDPerNamespace: the Holder keeps the first fd on a
// namespace and closes the ones after it.
func TestHolderKeepsOneFDPerNamespace(t *testing.T) {
	testutil.CheckLeaks(t)
	h := NewHolder()
	var kept int
	for i := 0; i < 3; i++ {
		fd, err := unix.Open("/proc/self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		ns, err := FromFD(fd)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			kept = fd
		}
		h.Hold(fd, ns)
		if i > 0 && unix.Fstat(fd, &unix.Stat_t{}) == nil && fd != kept {
			t.Errorf("fd %d on a namespace already held is still open", fd)
		}
	}
	if unix.Fstat(kept, &unix.Stat_t{}) != nil {
		t.Errorf("the first fd on the namespace, %d, was not kept", kept)
	}
	h.Close()
	if unix.Fstat(kept, &unix.Stat_t{}) == nil {
		t.Errorf("fd %d still open after Close", kept)
	}
	var nilHolder *Holder
	fd, _ := unix.Open("/proc/self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	nilHolder.Hold(fd, NS{})
	if unix.Fstat(fd, &unix.Stat_t{}) == nil {
		t.Error("a nil Holder kept an fd")
	}
}
