package discover

import (
	"bytes"
	"errors"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/features"
	"github.com/nsinspect/nsinspect/internal/decimal"
	"github.com/nsinspect/nsinspect/internal/linux"
	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/procinfo"
)

// The holders the /proc walk cannot tell from a link's text alone: an
// nsfs file opened through a path, a socket, and a pid namespace that has
// no init yet. Each costs system calls beyond the readlink every fd
// costs, paid only for the fds that can be one (see the package doc).

// netLink is the index of "net" in namespaces.Links.
var netLink = func() int {
	for i, l := range namespaces.Links {
		if l.Name == "net" {
			return i
		}
	}
	panic("namespaces.Links has no net link")
}()

// fdTable is one fd table being read: the leader's (/proc/PID/fd) or a
// thread's own (/proc/PID/task/TID/fd).
type fdTable struct {
	dfd    int    // the process's ns directory (pins it)
	base   string // its /proc directory from dfd: "../" or "../task/TID/"
	dir    string
	tid    int    // the task whose table it is: pid for the leader's
	thread bool   // a thread's own table
	net    *entry // that task's network namespace; nil if unread
	self   bool   // the discovering process's own table
	// pidfd is the task's, opened at its first socket: -1 before, and
	// -2 when it could not be opened.
	pidfd int
}

func (t *fdTable) close() {
	if t.pidfd >= 0 {
		unix.Close(t.pidfd)
	}
}

// resolveStat identifies the fd dirfd/name whose link is a path. An nsfs
// file opened through a bind mount (ip netns's /run/netns/NAME) reads
// back as that path, or as "/" once the mount is gone, not as
// "net:[INODE]": statx(2) through the link tells it by nsfs's device, and
// its inode names the namespace. It is opened only when the pass does not
// hold that inode yet.
func (w *worker) resolveStat(dirfd int, name string, src model.Source) (*entry, error) {
	if w.nsfsDev == 0 {
		return nil, errNotNS
	}
	// AT_STATX_DONT_SYNC: the device is the superblock's, and a file on
	// a network filesystem whose server hangs must not hang the walk.
	var st unix.Statx_t
	if err := unix.Statx(dirfd, name, unix.AT_STATX_DONT_SYNC, unix.STATX_INO, &st); err != nil {
		return nil, err
	}
	if unix.Mkdev(st.Dev_major, st.Dev_minor) != w.nsfsDev {
		return nil, errNotNS
	}
	if e := w.known(st.Ino); e != nil {
		w.reg.mark(e, src)
		return e, nil
	}
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	// adopt checks that what was opened has the inode stat saw: the
	// process may have closed the fd and opened another meanwhile.
	e, err := w.reg.adopt(fd, st.Ino, src)
	if err != nil {
		return nil, err
	}
	w.cache[st.Ino] = e
	return e, nil
}

// known is the entry of a namespace inode the pass holds, or nil.
func (w *worker) known(ino uint64) *entry {
	if e := w.cache[ino]; e != nil {
		return e
	}
	if e := w.reg.lookup(ino); e != nil {
		w.cache[ino] = e
		return e
	}
	return nil
}

// socketIno parses a socket fd's link text, "socket:[INODE]".
func socketIno(b []byte) (uint64, bool) {
	rest, ok := bytes.CutPrefix(b, []byte("socket:["))
	if !ok || len(rest) < 2 || rest[len(rest)-1] != ']' {
		return 0, false
	}
	return decimal.Parse(rest[:len(rest)-1])
}

// errOwnNet means a socket was made in its table's task's own network
// namespace: no holder worth listing.
var errOwnNet = errors.New("socket in its task's own network namespace")

// socket returns the network namespace of the socket fd (inode sock) of
// table t when it is not t's task's own. A socket that t's namespace's
// /proc/PID/net lists is its own (netSockets, once they pay for reading);
// any other is copied into
// our table with pidfd_getfd(2) (Linux 5.6; PTRACE_MODE_ATTACH) and asked
// with SIOCGSKNS, which opens its namespace. The answer is kept per
// socket inode for the pass, so a socket shared by many processes is
// asked once. Socket inodes are never reused while the socket is open,
// and the copy is checked to be that socket.
func (w *worker) socket(t *fdTable, fd int, sock uint64) (*entry, error) {
	if t.net == nil {
		return nil, errNotNS
	}
	if ino, ok := w.sockets[sock]; ok {
		if ino == t.net.ns.Ino {
			return nil, errOwnNet
		}
		if e := w.known(ino); e != nil {
			w.reg.mark(e, model.FromSocket)
			return e, nil
		}
	}
	listed, due := w.socks.listed(t.net.ns.Ino, sock)
	if due >= 0 {
		inos := w.readNetSockets(t.dfd, t.base, t.net.ns.Ino, due)
		w.socks.add(t.net.ns.Ino, due, inos)
		_, listed = inos[sock]
	}
	if listed {
		w.sockets[sock] = t.net.ns.Ino
		return nil, errOwnNet
	}
	nsfd, err := w.socketNS(t, fd, sock)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(nsfd, &st); err != nil {
		unix.Close(nsfd)
		return nil, err
	}
	if st.Ino == t.net.ns.Ino {
		// Our own table's fds on namespaces are ours: the pass holds
		// this one already, through the link it came from.
		unix.Close(nsfd)
		w.sockets[sock] = st.Ino
		return nil, errOwnNet
	}
	if e := w.known(st.Ino); e != nil {
		unix.Close(nsfd)
		w.sockets[sock] = st.Ino
		w.reg.mark(e, model.FromSocket)
		return e, nil
	}
	e, err := w.reg.adopt(nsfd, st.Ino, model.FromSocket)
	if err != nil {
		return nil, err
	}
	w.cache[st.Ino] = e
	w.sockets[sock] = st.Ino
	return e, nil
}

// socketNS opens the network namespace of the socket fd of table t.
func (w *worker) socketNS(t *fdTable, fd int, sock uint64) (int, error) {
	if t.self {
		return unix.IoctlRetInt(fd, unix.SIOCGSKNS)
	}
	if t.pidfd == -1 {
		var err error
		if t.thread {
			t.pidfd, err = linux.PidfdOpenThread(t.tid)
		} else {
			t.pidfd, err = linux.PidfdOpen(t.tid)
		}
		if err != nil {
			t.pidfd = -2
			if procinfo.IsDenied(err) {
				w.f.denied.Sockets++
			}
			return -1, err
		}
	}
	if t.pidfd < 0 {
		return -1, errNotNS
	}
	f, err := unix.PidfdGetfd(t.pidfd, fd, 0)
	if err != nil {
		if procinfo.IsDenied(err) {
			// Once per table: the next socket would be refused too.
			w.f.denied.Sockets++
			unix.Close(t.pidfd)
			t.pidfd = -2
		}
		return -1, err
	}
	defer unix.Close(f)
	// The pidfd was opened after the fd was listed: the fd may have been
	// closed and reused since, or (if the process was reaped) the pid
	// may be another process's. The copy must be the socket listed.
	var st unix.Stat_t
	if err := unix.Fstat(f, &st); err != nil {
		return -1, err
	}
	if st.Ino != sock || st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return -1, errMoved
	}
	return unix.IoctlRetInt(f, unix.SIOCGSKNS)
}

// unborn opens the pid namespace that task tid's pid_for_children link
// does not show: after unshare(CLONE_NEWPID) and before the first child,
// pidns_for_children_get answers ENOENT, but the pidfd ioctl
// PIDFD_GET_PID_FOR_CHILDREN_NAMESPACE (Linux 6.11) opens it. nsfd is the
// task's ns directory, which pins it: the pidfd, opened by number, is that
// task's if the task is still there after it was opened. It returns nil
// where the kernel has no such ioctl or the task is gone; the namespace
// is marked unborn unless its init was forked meanwhile.
func (w *worker) unborn(nsfd, tid int, thread bool) *entry {
	if !features.Has(features.PidfdNamespaces) {
		return nil
	}
	var pidfd int
	var err error
	if thread {
		pidfd, err = linux.PidfdOpenThread(tid)
	} else {
		pidfd, err = linux.PidfdOpen(tid)
	}
	if err != nil {
		return nil
	}
	defer unix.Close(pidfd)
	if _, _, err := readlink(nsfd, "pid", w.linkBuf); err != nil {
		return nil // reaped: the pidfd may be another task's
	}
	fd, err := linux.PidfdGetNamespace(pidfd, linux.PIDFD_GET_PID_FOR_CHILDREN_NAMESPACE)
	if err != nil {
		return nil
	}
	e, err := w.reg.adopt(fd, 0, 0)
	if err != nil || e.ns.Type != namespaces.PID {
		return nil
	}
	if _, _, err := readlink(nsfd, "pid_for_children", w.linkBuf); errors.Is(err, unix.ENOENT) {
		w.reg.mark(e, model.FromUnborn)
	}
	return e
}

// markUnborn marks e, a task's pid_for_children namespace other than its
// pid namespace, unborn when no task has pid 1 in it. Only from Linux 7.1,
// whose pid_for_children link opens before the namespace's init exists
// (before, the link answers ENOENT and unborn opens it another way). The
// BPF source asks child_reaper; from /proc the question is whether pid 1
// exists there (NS_GET_PID_FROM_PIDNS, ESRCH), which cannot tell a
// namespace whose init was never born from one whose init has exited.
func (w *worker) markUnborn(e *entry) {
	if e == nil || e.fd < 0 || e.ns.Type != namespaces.PID || !features.PidForChildrenBeforeInit() {
		return
	}
	if _, err := linux.PidFromPidns(e.fd, 1); errors.Is(err, unix.ESRCH) {
		w.reg.mark(e, model.FromUnborn)
	}
}
