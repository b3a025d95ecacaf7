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
// no pidfd_getfd(2) and SIOCGSKNS. Whether reading the lists pays is
// NetListed's to decide, per namespace.
type netSockets struct {
	mu    sync.Mutex
	byNet map[uint64]*NetListed // by network namespace inode
}

func newNetSockets() *netSockets { return &netSockets{byNet: make(map[uint64]*NetListed, 64)} }

// listed is NetListed.Listed for namespace net, under the pass's lock;
// nil (a pass without lists) lists nothing and reads nothing.
func (n *netSockets) listed(net, sock uint64) (listed bool, due int) {
	if n == nil {
		return false, -1
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	l := n.byNet[net]
	if l == nil {
		l = &NetListed{}
		n.byNet[net] = l
	}
	return l.Listed(sock)
}

// add is NetListed.Add for namespace net.
func (n *netSockets) add(net uint64, tier int, inos map[uint64]struct{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.byNet[net].Add(tier, inos)
}

// NetListed decides, for one network namespace, when reading its
// /proc/PID/net socket lists costs less than asking its sockets one by
// one, and keeps what the lists read so far show. The lists are read in
// tiers, each once as many sockets were asked one by one (since the tier
// before) as reading it costs, the rent-or-buy rule: never more than
// twice what the better choice in hindsight would have cost. Measured on
// 6.18 (x86_64, 128 threads): a socket asked is about 10 us
// (pidfd_getfd, fstat, SIOCGSKNS, fstat, two closes); the lists but TCP's
// about 250 us in all; /proc/net/tcp and tcp6 about 1 ms each however
// few sockets there are, since the kernel walks every bucket of the
// established hash, which is sized by memory, not by connections (and is
// shared by every namespace, so each namespace's read walks all of it).
// What the lists leave out (a TCP or UDP socket not bound yet, protocols
// without a list: AF_ALG, vsock, ...) is asked as before: the lists only
// ever save a question, they never answer one wrongly. The zero value is
// ready; it is not safe for concurrent use.
type NetListed struct {
	asked   int                 // sockets asked one by one since the last tier was read
	tiers   int                 // tiers read
	reading bool                // a tier is being read: ask meanwhile, count nothing
	inos    map[uint64]struct{} // what the tiers read show
}

// netListTiers are the files of /proc/PID/net that list sockets, with the
// field (from 0) that holds each socket's inode, in tiers by what reading
// them costs, and after how many sockets asked one by one each is read.
var netListTiers = []struct {
	after int
	lists []netList
}{
	{NetListsFirstAfter, []netList{{"unix", 6}, {"netlink", 9}, {"packet", 8}, {"udp", 9}, {"udp6", 9},
		{"udplite", 9}, {"udplite6", 9}, {"raw", 9}, {"raw6", 9}, {"icmp", 9}, {"icmp6", 9}}},
	{160, []netList{{"tcp", 9}, {"tcp6", 9}}},
}

// NetListsFirstAfter is how many sockets of a namespace are asked one by
// one before its first tier of lists is read.
const NetListsFirstAfter = 24

type netList struct {
	name  string
	field int
}

// Listed reports whether the lists read so far show socket sock. When
// they do not, the caller asks sock one by one and Listed counts it; due
// is then the tier whose reading that has paid for (-1: none), which the
// caller reads with ReadNetTier, hands to Add, and looks sock up in.
func (l *NetListed) Listed(sock uint64) (listed bool, due int) {
	if _, ok := l.inos[sock]; ok {
		return true, -1
	}
	if l.reading || l.tiers == len(netListTiers) {
		return false, -1
	}
	l.asked++
	if l.asked < netListTiers[l.tiers].after {
		return false, -1
	}
	l.reading = true
	return false, l.tiers
}

// Add keeps what tier's lists showed; nil (they could not be read, or
// the task read through left the namespace) lets the tier be due again
// after as many sockets more.
func (l *NetListed) Add(tier int, inos map[uint64]struct{}) {
	l.reading = false
	l.asked = 0
	if inos == nil {
		return
	}
	if l.inos == nil {
		l.inos = inos
	} else {
		for ino := range inos {
			l.inos[ino] = struct{}{}
		}
	}
	l.tiers = tier + 1
}

// readNetSockets reads tier of the socket lists of the network namespace
// of the task whose /proc directory is dfd/base ("../" for the process,
// or "../task/TID/"), and checks that the task was in namespace net
// before and after: nil if it was not, or left.
func (w *worker) readNetSockets(dfd int, base string, net uint64, tier int) map[uint64]struct{} {
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
	inos := ReadNetTier(tier, func(name string) ([]byte, error) { return readFile(dfd, base+name, &w.fileBuf) })
	if !in() {
		return nil
	}
	return inos
}

// ReadNetTier returns the inodes of the sockets that one tier of the
// socket lists of a task's /proc/PID/net show (see NetListed), read
// through read ("net/unix", "net/tcp", ...): sockets of the task's
// network namespace (the lists show only their own namespace's). A list
// the kernel lacks (udplite without CONFIG_IP_UDPLITE...) is skipped. A
// socket not among them may still be in that namespace (a TCP or UDP
// socket not bound yet, a protocol without a list): only SIOCGSKNS says.
func ReadNetTier(tier int, read func(name string) ([]byte, error)) map[uint64]struct{} {
	inos := make(map[uint64]struct{}, 256)
	for _, l := range netListTiers[tier].lists {
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
