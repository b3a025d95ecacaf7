package discover

import (
	"bytes"
	"sync"

	"github.com/nsinspect/nsinspect/internal/decimal"
	"github.com/nsinspect/nsinspect/namespaces"
)

// netSockets saves most of what asking sockets costs (see socket): the
// sockets of a network namespace that /proc/PID/net/* lists, read through
// a process in it, are in that namespace, so a socket found there needs
// no pidfd_getfd(2) and SIOCGSKNS. Reading the lists costs a dozen file
// reads per namespace, more than a few sockets cost to ask, so a
// namespace's lists are read only once askFirst of its sockets were asked
// one by one. What the lists leave out (a TCP or UDP socket not bound
// yet, protocols without a list: AF_ALG, vsock, ...) is asked as before:
// the lists only ever save a question, they never answer one wrongly.
type netSockets struct {
	mu    sync.Mutex
	byNet map[uint64]*netSockSet // by network namespace inode
}

type netSockSet struct {
	asked int                 // sockets asked one by one
	inos  map[uint64]struct{} // nil until read
}

// askFirst is how many sockets of a namespace are asked before its lists
// are read.
const askFirst = 8

func newNetSockets() *netSockets { return &netSockets{byNet: make(map[uint64]*netSockSet, 64)} }

// listed reports whether the lists of namespace net, once read, show
// socket sock, and whether the caller is the one to read them now.
func (n *netSockets) listed(net, sock uint64) (listed, read bool) {
	if n == nil {
		return false, false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	s := n.byNet[net]
	if s == nil {
		s = &netSockSet{}
		n.byNet[net] = s
	}
	if s.inos != nil {
		_, ok := s.inos[sock]
		return ok, false
	}
	s.asked++
	return false, s.asked == askFirst
}

// done stores what the reader of net's lists found; nil (they could not
// be read) lets a later caller try again.
func (n *netSockets) done(net uint64, inos map[uint64]struct{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if inos == nil {
		n.byNet[net].asked = 0
		return
	}
	n.byNet[net].inos = inos
}

// netLists are the files of /proc/PID/net that list sockets, with the
// field (from 0) that holds each socket's inode.
var netLists = []struct {
	name  string
	field int
}{
	{"unix", 6}, {"netlink", 9}, {"packet", 8},
	{"tcp", 9}, {"tcp6", 9}, {"udp", 9}, {"udp6", 9}, {"udplite", 9}, {"udplite6", 9},
	{"raw", 9}, {"raw6", 9}, {"icmp", 9}, {"icmp6", 9},
}

// readNetSockets reads the socket lists of the network namespace of the
// task whose /proc directory is dfd/base ("../" for the process, or
// "../task/TID/"), and checks that the task was in namespace net before
// and after: nil if it was not, or left. A list the kernel lacks
// (udplite without CONFIG_IP_UDPLITE...) is skipped.
func (w *worker) readNetSockets(dfd int, base string, net uint64) map[uint64]struct{} {
	in := func() bool {
		b, isShort, err := readlink(dfd, base+"ns/net", w.linkBuf)
		if err != nil || !isShort {
			return false
		}
		_, ino, ok := namespaces.ParseLink(b)
		return ok && ino == net
	}
	if !in() {
		return nil
	}
	inos := NetListSockets(func(name string) ([]byte, error) { return readFile(dfd, base+name, &w.fileBuf) })
	if !in() {
		return nil
	}
	return inos
}

// NetListSockets returns the inodes of the sockets that the socket lists
// of one task's /proc/PID/net show, read through read ("net/unix",
// "net/tcp", ...): sockets of the task's network namespace (the lists
// show only their own namespace's). A list the kernel lacks is skipped.
// A socket not among them may still be in that namespace (a TCP or UDP
// socket not bound yet, a protocol without a list): only SIOCGSKNS says.
func NetListSockets(read func(name string) ([]byte, error)) map[uint64]struct{} {
	inos := make(map[uint64]struct{}, 256)
	for _, l := range netLists {
		b, err := read("net/" + l.name)
		if err != nil {
			continue
		}
		socketInodes(b, l.field, inos)
	}
	return inos
}

// socketInodes adds the inode in field of each line but the first
// (the header) of a /proc/net socket list to inos.
func socketInodes(b []byte, field int, inos map[uint64]struct{}) {
	first := true
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if first {
			first = false
			continue
		}
		for f := 0; ; f++ {
			line = bytes.TrimLeft(line, " ")
			if len(line) == 0 {
				break
			}
			end := bytes.IndexByte(line, ' ')
			if end < 0 {
				end = len(line)
			}
			if f == field {
				if ino, ok := decimal.Parse(line[:end]); ok && ino != 0 {
					inos[ino] = struct{}{}
				}
				break
			}
			line = line[end:]
		}
	}
}
