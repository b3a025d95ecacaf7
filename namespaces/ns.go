package namespaces

import (
	"errors"
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

// Owner opens a namespace related to the one fd refers to and
// identifies it: its owning user namespace (NS_GET_USERNS) or its parent
// (NS_GET_PARENT). ok is false where the kernel has none to give: the top of
// the hierarchy as the caller sees it (EPERM) or a type without hierarchy
// (EINVAL).
func Owner(fd int) (ns NS, ok bool, err error) { return relative(fd, linux.NsGetUserns) }

// Parent returns the parent of a pid or user namespace; see Owner for ok.
func Parent(fd int) (ns NS, ok bool, err error) { return relative(fd, linux.NsGetParent) }

func relative(fd int, get func(int) (int, error)) (NS, bool, error) {
	rfd, err := get(fd)
	if err != nil {
		if isNoRelative(err) {
			return NS{}, false, nil
		}
		return NS{}, false, err
	}
	defer unix.Close(rfd)
	ns, err := FromFD(rfd)
	return ns, err == nil, err
}

func isNoRelative(err error) bool {
	return errors.Is(err, unix.EPERM) || errors.Is(err, unix.EINVAL)
}

// OwnerUID returns the uid of the creator of the user namespace fd refers to.
func OwnerUID(fd int) (uint32, error) { return linux.NsGetOwnerUID(fd) }
