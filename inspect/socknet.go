package inspect

import (
	"errors"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/discover"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/procinfo"
	"github.com/nsinspect/nsinspect/sharing"
)

// OtherNetSockets returns the sockets of p's fd table that were made in
// another network namespace than p's own (net), each with that
// namespace: what show and compare name beside the task's own net link
// (a process that setns'd into a namespace, made a socket and came back;
// a socket passed over SCM_RIGHTS). It reads each fd's link; a socket is
// asked with pidfd_getfd(2) and SIOCGSKNS, unless the task's socket lists
// show it, read once asking has paid for them (discover.NetListed). The
// error is why the table or a socket could not be read (a denial needs
// CAP_SYS_PTRACE); the sockets found before it are returned with it.
func OtherNetSockets(p *procinfo.Proc, net namespaces.NS) ([]sharing.SocketNet, error) {
	nums, err := p.FDNumbers()
	if err != nil {
		return nil, err
	}
	var out []sharing.SocketNet
	var own discover.NetListed
	for _, fd := range nums {
		link, err := p.Readlink("fd/" + strconv.Itoa(fd))
		if err != nil {
			continue // closed meanwhile, or refused: the next read says
		}
		sock, ok := socketInode(link)
		if !ok {
			continue
		}
		mine, due := own.Listed(sock)
		if due >= 0 {
			inos := discover.ReadNetTier(due, p.ReadFile)
			own.Add(due, inos)
			_, mine = inos[sock]
		}
		if mine {
			continue
		}
		ns, err := socketNet(p, fd, sock)
		if errors.Is(err, errSocketMoved) {
			continue
		}
		if err != nil {
			return out, err
		}
		if ns.Ino != net.Ino {
			out = append(out, sharing.SocketNet{FD: fd, NS: ns})
		}
	}
	return out, p.Alive()
}

// socketInode parses a socket fd's link text, "socket:[INODE]".
func socketInode(link string) (uint64, bool) {
	s, ok := strings.CutPrefix(link, "socket:[")
	if !ok || !strings.HasSuffix(s, "]") {
		return 0, false
	}
	ino, err := strconv.ParseUint(strings.TrimSuffix(s, "]"), 10, 64)
	return ino, err == nil
}

var errSocketMoved = errors.New("fd is no longer the socket listed")

// socketNet copies fd of p's process (pidfd_getfd(2), PTRACE_MODE_ATTACH)
// and asks SIOCGSKNS for the namespace of socket sock.
func socketNet(p *procinfo.Proc, fd int, sock uint64) (namespaces.NS, error) {
	f, err := unix.PidfdGetfd(p.Pidfd(), fd, 0)
	if errors.Is(err, unix.EBADF) {
		return namespaces.NS{}, errSocketMoved // closed since it was listed
	}
	if err != nil {
		return namespaces.NS{}, &procinfo.Error{PID: p.PID, TID: p.TID, Op: "pidfd_getfd", Path: "fd/" + strconv.Itoa(fd), Err: err}
	}
	defer unix.Close(f)
	var st unix.Stat_t
	if err := unix.Fstat(f, &st); err != nil || st.Ino != sock || st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return namespaces.NS{}, errSocketMoved
	}
	nsfd, err := unix.IoctlRetInt(f, unix.SIOCGSKNS)
	if err != nil {
		return namespaces.NS{}, &procinfo.Error{PID: p.PID, TID: p.TID, Op: "SIOCGSKNS", Path: "fd/" + strconv.Itoa(fd), Err: err}
	}
	defer unix.Close(nsfd)
	return namespaces.FromFD(nsfd)
}
