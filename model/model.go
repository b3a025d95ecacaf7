package model

import (
	"strconv"
	"strings"

	"github.com/nsinspect/nsinspect/namespaces"
)

// Source says how a namespace was found. A namespace found several ways has
// several bits set.
type Source uint16

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
	// nsproxy at exit (exit_task_namespaces) but still pins those two:
	// its struct pid its pid namespace, its cred its user namespace.
	FromZombie
	// FromSocket: a socket made in the network namespace, open in a fd
	// table whose task is in another one (SIOCGSKNS on the socket; in the
	// kernel, sock->sk->sk_net). A socket holds its namespace: the last
	// process can leave it and its bind mount go, and it lives on.
	FromSocket
	// FromUnborn: a pid namespace that unshare(CLONE_NEWPID) made and
	// whose first process (its init) was not forked yet, held only by the
	// pid_for_children of the tasks that made it (with for_children, or
	// thread for a thread's). /proc/PID/ns/pid_for_children answers
	// ENOENT for it (pidns_for_children_get checks child_reaper).
	FromUnborn
	// FromListns: listns(2) (Linux 6.19) listed it as active and nothing
	// the listns source reads holds it: no task, thread, nsfs bind mount,
	// or namespace it is the parent or owner of. It is held by an open fd
	// (the listns source reads no fd table), or by a task or mount
	// namespace it may not read; --source proc names the holder.
	FromListns
)

// Hierarchy is the sources that mean "reached only by climbing": no task,
// fd or mount of the pass was seen holding the namespace.
const Hierarchy = FromParent | FromOwner

var sourceNames = []string{"process", "for_children", "thread", "bindmount", "fd", "parent", "owner", "zombie", "socket", "unborn", "listns"}

// Names lists the set bits by name ("process", "for_children", "thread",
// "bindmount", "fd", "parent", "owner", "zombie", "socket", "unborn",
// "listns"), in
// that bit order.
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

// TaskRef names one thread of a process, as a holder of a namespace.
type TaskRef struct {
	PID int `json:"pid"`
	TID int `json:"tid"`
}

// FD is one file descriptor of a process that holds a namespace.
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

// Namespace is one namespace found, with what lsns(8) shows about it, what
// holds it and where it hangs in the hierarchy.
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
	// (NS_GET_USERNS, the owning user namespace; for a user namespace the
	// same as Parent, see the package doc); nil at the top of what the
	// kernel lets us see, or for types without one.
	Parent *Namespace
	Owner  *Namespace

	// NetNSID is the id the discovering process's network namespace
	// assigned to this network namespace (RTM_GETNSID), NetNSIDUnassigned
	// when it assigned none, NetNSIDUnknown when the kernel could not be
	// asked or this is not a network namespace.
	NetNSID int
	// NSFS are the mount points of its nsfs mounts in the discovering
	// process's own mount namespace, as its /proc/self/mountinfo lists
	// them (in that order, each once): lsns(8)'s NSFS. BindMounts has the
	// mounts of every mount namespace.
	NSFS []string

	Threads    []TaskRef   // non-leader threads in it (their leader is not)
	BindMounts []BindMount // nsfs mounts of it
	FDs        []FD        // open fds on it, other than the pass's own
	// Sockets are open sockets made in it, each in a fd table whose task
	// is in another network namespace (FromSocket); a socket in its own
	// task's namespace adds nothing and is not listed.
	Sockets []FD
}

// NetNSID values other than an id (an id is >= 0).
const (
	// NetNSIDUnassigned: the discovering process's network namespace has
	// given it no id (NETNSA_NSID_NOT_ASSIGNED); lsns(8) says "unassigned".
	NetNSIDUnassigned = -1
	// NetNSIDUnknown: not a network namespace, or RTM_GETNSID could not
	// be asked (the namespace could not be opened).
	NetNSIDUnknown = -2
)

// NetNSIDText is NetNSID as lsns(8) prints it: the id, "unassigned", or
// "" where it is unknown or the namespace is not a network namespace.
func (n *Namespace) NetNSIDText() string {
	switch {
	case n.Type != namespaces.Net || n.NetNSID == NetNSIDUnknown:
		return ""
	case n.NetNSID == NetNSIDUnassigned:
		return "unassigned"
	}
	return strconv.Itoa(n.NetNSID)
}

// ProcPath is /proc/PID/ns/TYPE of the lowest process in the namespace
// (lsns(8)'s PATH), "" when no process is in it.
func (n *Namespace) ProcPath() string {
	if n.NProcs == 0 {
		return ""
	}
	return "/proc/" + strconv.Itoa(n.PID) + "/ns/" + n.Type.Name()
}

// OnlyHierarchy reports whether the namespace was reached only as some
// namespace's parent or owner.
func (n *Namespace) OnlyHierarchy() bool { return n.Sources&^Hierarchy == 0 }

// Task is one task: a process's leader or one of its threads.
type Task struct {
	PID    int
	TID    int // PID for the thread-group leader
	PPID   int
	Comm   string
	State  byte // as in /proc/PID/stat: R, S, D, Z, I, ...
	Kernel bool // PF_KTHREAD: a kernel thread
	// Affinity is Cpus_allowed_list of /proc/PID/status, read for
	// kernel threads only ("" for the others).
	Affinity string

	// NS is the task's namespace per namespaces.Links entry; nil where the
	// link could not be read, and then Missing[i] says why: a zombie has
	// released its nsproxy (only pid and user still resolve), or ptrace
	// access was refused.
	NS      []*Namespace
	Missing []string
	// Refused is set when the kernel refused to show the task's
	// namespaces (ptrace access, EACCES): more privilege would.
	Refused bool

	// Objects are opaque ids of the kernel objects the task points to,
	// indexed as taskobj.Object (nsproxy, files, fs, mm, sighand, signal,
	// cred, io, sysvsem): equal within one pass exactly when the pointers
	// are equal, 0 for NULL. Only the BPF source sees them; nil from /proc.
	Objects []uint64
	// UID and EUID from the task's cred (BPF source only).
	UID, EUID uint32
}

// IsThread reports whether t is a thread other than its group's leader.
func (t *Task) IsThread() bool { return t.TID != t.PID }

// Zombie reports whether the task has exited and is not reaped yet.
func (t *Task) Zombie() bool { return t.State == 'Z' || t.State == 'X' }

// Readable reports whether any of the task's links was read.
func (t *Task) Readable() bool {
	for _, n := range t.NS {
		if n != nil {
			return true
		}
	}
	return false
}

// Link returns the task's namespace behind the /proc/PID/ns link named
// name, and why it is missing when it is.
func (t *Task) Link(name string) (*Namespace, string) {
	for i, l := range namespaces.Links {
		if l.Name == name && i < len(t.NS) {
			return t.NS[i], t.Missing[i]
		}
	}
	return nil, "no such link " + name
}

// Denied counts what the pass was not allowed to read, by what it was.
// Other users' ns links, task links, fds and /proc/PID/root need
// PTRACE_MODE_READ access (CAP_SYS_PTRACE for processes of other users).
type Denied struct {
	NSLinks   int // processes whose /proc/PID/ns could not be read
	Threads   int // threads whose /proc/PID/task/TID/ns could not be read
	FDs       int // processes whose /proc/PID/fd could not be listed
	Mountinfo int // mountinfo files or nsfs mount points that could not be read
	Relatives int // NS_GET_USERNS/NS_GET_PARENT calls refused
	// Sockets counts fd tables whose sockets could not be asked for their
	// network namespace (pidfd_getfd(2) needs PTRACE_MODE_ATTACH).
	Sockets int
}

// Any reports whether anything at all was denied.
func (d Denied) Any() bool { return d != Denied{} }

// Add adds e's counts to d.
func (d *Denied) Add(e Denied) {
	d.NSLinks += e.NSLinks
	d.Threads += e.Threads
	d.FDs += e.FDs
	d.Mountinfo += e.Mountinfo
	d.Relatives += e.Relatives
	d.Sockets += e.Sockets
}

// Model is one discovery pass.
type Model struct {
	// Namespaces, sorted as lsns sorts them: by inode number, then type.
	Namespaces []*Namespace
	// Tasks, sorted by PID then TID, leader first; empty unless the pass
	// was asked for tasks.
	Tasks     []*Task
	Processes int // processes whose namespaces were read
	Denied    Denied
	// Source is the source that ran: "proc", "bpf" or "listns"; Note says why a
	// pass asked for "auto" fell back to /proc, "" otherwise.
	Source string
	Note   string
}

// Task returns the task pid:tid of the pass (tid == pid for the
// process's leader), or nil when the pass has no such task: it records
// tasks only when asked, and never those it may not see at all.
func (m *Model) Task(pid, tid int) *Task {
	for _, t := range m.Tasks {
		if t.PID == pid && t.TID == tid {
			return t
		}
	}
	return nil
}

// Lookup returns the namespace with ns's identity, or nil.
func (m *Model) Lookup(ns namespaces.NS) *Namespace {
	for _, n := range m.Namespaces {
		if n.Key() == ns.Key() {
			return n
		}
	}
	return nil
}
