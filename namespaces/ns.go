package namespaces

import (
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/features"
	"github.com/nsinspect/nsinspect/internal/linux"
)

// NS identifies one namespace. ID is NS_GET_ID where the kernel has it
// (Linux 6.18; 0 elsewhere, and then absent from JSON: never made up).
// Ino and Dev are what stat(2) of the nsfs file gives; they identify the
// namespace only while a file descriptor holds it (see Holder), because
// the kernel hands a dead namespace's inode number to the next one.
type NS struct {
	Type Type   `json:"type"`
	Ino  uint64 `json:"ns"`           // inode number, as in "net:[4026531840]" (lsns's NS column)
	ID   uint64 `json:"id,omitempty"` // NS_GET_ID, unique for the life of the system
	Dev  uint64 `json:"dev"`
}

// Same reports whether a and b are the same namespace: by NS_GET_ID when
// both have one, else by (st_dev, st_ino). The second is sound only while
// both namespaces are held open, by a Holder or by a task known to be
// alive in them.
func (a NS) Same(b NS) bool { return a.Key() == b.Key() && a.Ino != 0 }

// Key is NS's identity as a comparable value, for maps and sets; it has
// the same validity as Same.
type Key struct {
	ID       uint64
	Dev, Ino uint64
}

// Key returns the id where there is one, else the device and inode.
func (n NS) Key() Key {
	if n.ID != 0 {
		return Key{ID: n.ID}
	}
	return Key{Dev: n.Dev, Ino: n.Ino}
}

// String is "id:N" or "ino:DEV:INO", usable as a node name in a graph.
func (k Key) String() string {
	if k.ID != 0 {
		return "id:" + strconv.FormatUint(k.ID, 10)
	}
	return "ino:" + strconv.FormatUint(k.Dev, 10) + ":" + strconv.FormatUint(k.Ino, 10)
}

func (n NS) String() string { return fmt.Sprintf("%s:[%d]", n.Type.Name(), n.Ino) }

// IDText is "id N" for tables, or "no id" where the kernel gives none.
func (n NS) IDText() string {
	if n.ID == 0 {
		return "no id"
	}
	return "id " + strconv.FormatUint(n.ID, 10)
}

// FromFD identifies the namespace an nsfs file descriptor refers to.
func FromFD(fd int) (NS, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return NS{}, fmt.Errorf("stat of namespace fd: %w", err)
	}
	t, err := linux.NsGetType(fd)
	if err != nil {
		return NS{}, err
	}
	ns := NS{Type: Type(t), Ino: st.Ino, Dev: st.Dev}
	if features.Has(features.NSGetID) {
		if ns.ID, err = linux.NsGetID(fd); err != nil {
			return NS{}, err
		}
	}
	return ns, nil
}
