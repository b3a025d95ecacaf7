package namespaces

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/linux"
)

// NS identifies one namespace. Two NS values are the same namespace exactly
// when their IDs are equal; Ino and Dev are what stat(2) of the nsfs file
// gives, comparable only while a file descriptor holds the namespace.
type NS struct {
	Type Type   `json:"type"`
	ID   uint64 `json:"id"`  // NS_GET_ID, unique for the life of the system
	Ino  uint64 `json:"ino"` // inode number, as in "net:[4026531840]"
	Dev  uint64 `json:"dev"`
}

// Same reports whether a and b are the same namespace.
func (a NS) Same(b NS) bool { return a.ID == b.ID && a.ID != 0 }

func (n NS) String() string { return fmt.Sprintf("%s:[%d]", n.Type.Name(), n.Ino) }

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
	id, err := linux.NsGetID(fd)
	if err != nil {
		return NS{}, err
	}
	return NS{Type: Type(t), ID: id, Ino: st.Ino, Dev: st.Dev}, nil
}
