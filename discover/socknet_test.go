package discover

import (
	"maps"
	"os"
	"slices"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/namespaces"
)

// The inode field of each /proc/net socket list, from real lines of a 6.18
// kernel: the header is skipped, an inode of 0 (a TIME_WAIT socket, which
// no fd holds) is left out, and a last line without a newline counts.
func TestSocketInodes(t *testing.T) {
	for _, c := range []struct {
		name, text string
		field      int
		want       []uint64
	}{
		{"unix", "Num       RefCount Protocol Flags    Type St Inode Path\n" +
			"000000008a084fed: 00000002 00000000 00010000 0001 01  3695 /var/run/docker.sock\n" +
			"00000000f3d2a1b0: 00000003 00000000 00000000 0001 03 28118\n", 6, []uint64{3695, 28118}},
		{"netlink", "sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode\n" +
			"00000000551bc9e3 0   1446       00000000 0        0        0     2        0        4441    \n", 9, []uint64{4441}},
		{"packet", "sk               RefCnt Type Proto  Iface R Rmem   User   Inode\n" +
			"00000000a1b2c3d4 3      3    0003   2     1 0      0      51234", 8, []uint64{51234}},
		{"tcp", "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
			"   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1165 1 0000000089abd2b6 100 0 0 10 0\n" +
			"   1: 0100007F:0016 0100007F:D4A2 06 00000000:00000000 03:00000BB8 00000000     0        0 0 3 00000000c0ffee00\n", 9, []uint64{1165}},
		{"empty", "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n", 9, nil},
	} {
		inos := map[uint64]struct{}{}
		socketInodes([]byte(c.text), c.field, inos)
		if got := slices.Sorted(maps.Keys(inos)); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// NetListed reads a tier once as many sockets were asked one by one since
// the tier before as it names, one reader at a time, never again once
// read; a tier that could not be read is due again after as many more.
func TestNetListedTiers(t *testing.T) {
	var l NetListed
	ask := func(sock uint64) (int, int) {
		t.Helper()
		for n := 1; ; n++ {
			listed, due := l.Listed(sock)
			if listed {
				t.Fatalf("socket %d listed before any tier showed it", sock)
			}
			if due >= 0 {
				return n, due
			}
			if n > 1000 {
				t.Fatal("no tier due after 1000 sockets")
			}
		}
	}
	n, due := ask(1)
	if n != netListTiers[0].after || due != 0 {
		t.Fatalf("first tier due after %d sockets as tier %d; want %d, tier 0", n, due, netListTiers[0].after)
	}
	if _, d := l.Listed(2); d != -1 {
		t.Errorf("tier %d due again while the first is being read", d)
	}
	l.Add(0, nil) // could not be read
	if n, due = ask(3); n != netListTiers[0].after || due != 0 {
		t.Fatalf("after a failed read: tier %d due after %d sockets; want tier 0 after %d", due, n, netListTiers[0].after)
	}
	l.Add(0, map[uint64]struct{}{7: {}})
	if listed, due := l.Listed(7); !listed || due != -1 {
		t.Errorf("socket 7, which the tier shows: listed %v due %d", listed, due)
	}
	if n, due = ask(8); n != netListTiers[1].after || due != 1 {
		t.Fatalf("second tier due after %d sockets as tier %d; want %d, tier 1", n, due, netListTiers[1].after)
	}
	l.Add(1, map[uint64]struct{}{9: {}})
	for _, sock := range []uint64{7, 9} {
		if listed, _ := l.Listed(sock); !listed {
			t.Errorf("socket %d not listed after both tiers were read", sock)
		}
	}
	for range 1000 {
		if _, due := l.Listed(10); due != -1 {
			t.Fatalf("tier %d due after every tier was read", due)
		}
	}
}

// A process with more sockets in its own network namespace than
// NetListsFirstAfter (so that the walk reads that namespace's first lists)
// and one made in another
// namespace, whose only reference it is: the walk lists that namespace,
// held by that socket alone, and none of the others as holders.
func TestScanSocketHolder(t *testing.T) {
	testutil.RequireRoot(t)
	t.Cleanup(func() { testutil.NoChildren(t) })
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for range NetListsFirstAfter + 4 {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		f := os.NewFile(uintptr(fd), "udp")
		files = append(files, f)
		// Bound, so that /proc/net/udp lists it.
		if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
			t.Fatal(err)
		}
	}
	foreign := testutil.SocketInNewNetns(t)
	files = append(files, os.NewFile(uintptr(foreign), "foreign"))
	want := nsAtFD(t, foreign)
	holder := startSleeper(t, &syscall.SysProcAttr{}, files...)
	for _, f := range files {
		f.Close()
	}
	files = nil
	m := mustScan(t)
	ns := find(t, m, want)
	wantFD := model.FD{PID: holder.Process.Pid, FD: 3 + NetListsFirstAfter + 4}
	if ns.Sources != model.FromSocket || !slices.Equal(ns.Sockets, []model.FD{wantFD}) {
		t.Errorf("%v: sources %v sockets %v; want socket only, held by %v", ns.NS, ns.Sources, ns.Sockets, wantFD)
	}
	for _, n := range m.Namespaces {
		for _, s := range n.Sockets {
			if s.PID == holder.Process.Pid && s != wantFD {
				t.Errorf("%v lists socket %v, made in the holder's own namespace", n.NS, s)
			}
		}
	}
}

// nsAtFD is the namespace of socket fd (SIOCGSKNS).
func nsAtFD(t *testing.T, sock int) namespaces.NS {
	t.Helper()
	fd, err := unix.IoctlRetInt(sock, unix.SIOCGSKNS)
	if err != nil {
		t.Fatalf("SIOCGSKNS: %v", err)
	}
	defer unix.Close(fd)
	ns, err := namespaces.FromFD(fd)
	if err != nil {
		t.Fatal(err)
	}
	return ns
}
