package scan

import (
	"strings"

	"github.com/nsinspect/nsinspect/namespaces"
)

// Source says how a namespace was found. A namespace found several ways has
// several bits set.
type Source uint8

const (
	// FromProcess: a thread-group leader's /proc/PID/ns/<type> link.
	FromProcess Source = 1 << iota
	// FromChildren: a leader's pid_for_children or time_for_children link
	// that differs from its own pid or time namespace (after
	// unshare(CLONE_NEWPID|CLONE_NEWTIME), before the first child).
	FromChildren
	// FromThread: a non-leader thread's /proc/PID/task/TID/ns link that
	// differs from its leader's.
	FromThread
	// FromBindMount: an nsfs mount listed in some mount namespace.
	FromBindMount
	// FromFD: an open file descriptor on the namespace.
	FromFD
	// FromParent: NS_GET_PARENT of a pid or user namespace already found.
	FromParent
	// FromOwner: NS_GET_USERNS of a namespace already found.
	FromOwner
	// FromZombie: a zombie's pid or user link. A zombie released its
	// nsproxy at exit but still pins those two (see zombieLinks).
	FromZombie
)

var sourceNames = []string{"process", "for_children", "thread", "bindmount", "fd", "parent", "owner", "zombie"}

// Names lists the set bits by name ("process", "for_children", "thread",
// "bindmount", "fd", "parent", "owner", "zombie"), in that bit order.
func (s Source) Names() []string {
	out := []string{}
	for i, n := range sourceNames {
		if s&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

func (s Source) String() string { return strings.Join(s.Names(), ",") }

// Task is one thread of a process.
type Task struct {
	PID int `json:"pid"`
	TID int `json:"tid"`
}

// FD is one file descriptor of a process.
type FD struct {
	PID int `json:"pid"`
	FD  int `json:"fd"`
}

// BindMount is one nsfs mount of the namespace. Path is resolved in the
// mount namespace whose inode is MntNSIno (and NS_GET_ID MntNS, absent on
// kernels without it), which was read through process PID.
type BindMount struct {
	Path     string `json:"path"`
	MntNS    uint64 `json:"mntns,omitempty"`
	MntNSIno uint64 `json:"mntns_ino"`
	PID      int    `json:"pid"`
}

// Namespace is one namespace found on the host, with what lsns(8) shows
// about it and how it was found.
type Namespace struct {
	namespaces.NS
	Sources Source

	// NProcs counts thread-group leaders whose own link is this namespace,
	// as lsns counts, zombies included; Zombies is how many of them are
	// zombies. PID is the lowest of them, with its parent PID, the uid
	// that owns /proc/PID and its command line (comm when the command
	// line is empty, as for kernel threads and zombies). All zero when
	// NProcs is 0.
	NProcs  int
	Zombies int
	PID     int
	PPID    int
	UID     uint32
	Command string

	// Parent (NS_GET_PARENT, pid and user namespaces) and Owner
	// (NS_GET_USERNS, the owning user namespace); nil at the top of what
	// the kernel lets us see or for types without one.
	Parent *Namespace
	Owner  *Namespace

	// NetNSID is the id the scanning process's network namespace assigned
	// to this network namespace (RTM_GETNSID), -1 when none is assigned or
	// the namespace is not a network namespace.
	NetNSID int

	Threads    []Task      // non-leader threads in it (their leader is not)
	BindMounts []BindMount // nsfs mounts of it
	FDs        []FD        // open fds on it, other than the scan's own
}
