package discover

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/features"
	"github.com/nsinspect/nsinspect/internal/linux"
	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/namespaces"
)

// haveListns reports whether the kernel has listns(2), as its probe
// decides (features.TestProbesAgreeWithRelease pins the probe to the
// release). Without it the test checks what it can there, the source's
// refusal, and says so: the kernel matrix runs the rest on 6.19 and newer.
func haveListns(t *testing.T) bool {
	t.Helper()
	testutil.RequireRoot(t)
	if features.Has(features.Listns) {
		return true
	}
	if m, err := Run(Options{}, Listns{}); !errors.Is(err, features.ErrMissing) || m != nil {
		t.Errorf("Run(Listns) without listns(2): %v, %v; want nil and features.ErrMissing", m, err)
	}
	t.Logf("no listns(2) (%s): checked the refusal only; the kernel matrix's 6.19 and newest kernels run the rest", features.Probe(features.Listns).Evidence)
	return false
}

// socketOnlyNetns makes a network namespace whose only reference is a
// socket of this process (made on a thread that unshared and went back),
// and returns the socket and the namespace.
func socketOnlyNetns(t *testing.T) (int, namespaces.NS) {
	t.Helper()
	sock := testutil.SocketInNewNetns(t)
	t.Cleanup(func() { unix.Close(sock) })
	return sock, nsAtFD(t, sock)
}

func listed(t *testing.T, id uint64) bool {
	t.Helper()
	ids, err := linux.Listns(0)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Contains(ids, id)
}

// hiddenMountNetns makes a network namespace that neither the /proc walk
// nor BPF finds: its only holder is a bind mount inside a mount namespace
// that no task is in (the maker exited), held in turn by an fd of this
// process. Mount tables are read through a task in the mount namespace,
// so no source reads that one; listns(2) lists the network namespace,
// which the bind mount keeps active. It returns the mount namespace's fd
// and the network namespace.
func hiddenMountNetns(t *testing.T) (int, namespaces.NS) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "netns")
	if err := os.WriteFile(path, nil, 0o444); err != nil {
		t.Fatal(err)
	}
	netns := startSleeper(t, &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNET})
	net := nsOf(t, netns.Process.Pid, "net")
	testutil.RequireCommand(t, "unshare", "util-linux")
	maker := testutil.StartReady(t, "unshare", "-m", "--propagation", "private", "sh", "-c",
		fmt.Sprintf("mount -o bind /proc/%d/ns/net %s && echo ready && exec sleep 1000", netns.Process.Pid, path))
	mntFD, err := unix.Open(fmt.Sprintf("/proc/%d/ns/mnt", maker.Process.Pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(mntFD) })
	maker.Process.Kill()
	maker.Wait()
	netns.Process.Kill()
	netns.Wait()
	if !listed(t, net.ID) {
		t.Fatalf("%v, bind-mounted in a mount namespace an fd holds, is not listed by listns", net)
	}
	return mntFD, net
}

// The listns source is the /proc walk with its holders, plus what
// listns(2) lists that the walk missed. Every namespace two /proc passes
// around it both found is in its answer with the same id, inode and
// sources, and listns(2) itself lists each but the one held only by a
// socket, which a socket does not make active (the kernel's own selftest
// siocgskns_listns_visibility): the source finds that one, with its
// holder, through the walk. A network namespace bind-mounted only inside
// a mount namespace no task is in, which the walk misses, the source
// adds as "listns". The population: a process in new namespaces, a netns
// held only by a bind mount, an ipc and a net namespace each held only
// by an fd of this process, a netns held only by a socket, and the
// hidden one.
func TestListnsAgreesWithProc(t *testing.T) {
	if !haveListns(t) {
		return
	}
	proc := startSleeper(t, &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNET | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC})
	procNet := nsOf(t, proc.Process.Pid, "net")
	mount := nsAt(t, bindNetns(t))
	ipcFD, ipcNS := holdOnly(t, "ipc", "unshare", "--ipc", "sleep", "600")
	netFD, netNS := holdOnly(t, "net", "unshare", "--net", "sleep", "600")
	sock, sockNS := socketOnlyNetns(t)
	_, hidden := hiddenMountNetns(t)
	if listed(t, sockNS.ID) {
		t.Errorf("netns %v held only by socket %d is listed by listns: a socket makes it active", sockNS, sock)
	}

	before := runSource(t, Proc{})
	ml := runSource(t, Listns{})
	after := runSource(t, Proc{})
	if ml.Source != "listns" || ml.Note != "" {
		t.Errorf("source %q note %q, want listns and no note", ml.Source, ml.Note)
	}
	byID := func(m *model.Model) map[uint64]*model.Namespace {
		out := make(map[uint64]*model.Namespace, len(m.Namespaces))
		for _, n := range m.Namespaces {
			out[n.ID] = n
		}
		return out
	}
	lb, la, ll := byID(before), byID(after), byID(ml)
	for id, n := range lb {
		a := la[id]
		if a == nil || a.Sources != n.Sources {
			continue // died or changed between the passes
		}
		switch l := ll[id]; {
		case l == nil:
			t.Errorf("%v (%s, sources %v) found by /proc twice is not in listns's answer", n.NS, n.IDText(), n.Sources)
		case l.Ino != n.Ino || l.Type != n.Type || l.Sources != n.Sources:
			t.Errorf("id %d: /proc says %v %v, listns %v %v", id, n.NS, n.Sources, l.NS, l.Sources)
		}
	}
	for id, l := range ll {
		if l.Sources&model.FromListns != 0 && (lb[id] != nil || la[id] != nil) {
			t.Errorf("%v is source listns, but /proc found it (sources %v)", l.NS, l.Sources)
		}
	}

	want := []struct {
		what    string
		ns      namespaces.NS
		sources model.Source
	}{
		{"a process's net namespace", procNet, model.FromProcess},
		{"a netns held only by a bind mount", mount, model.FromBindMount},
		{"an ipc namespace held only by an fd", ipcNS, model.FromFD},
		{"a netns held only by an fd", netNS, model.FromFD},
		{"a netns held only by a socket", sockNS, model.FromSocket},
		{"a netns bind-mounted in a mount namespace no task is in", hidden, model.FromListns},
	}
	for _, w := range want {
		if n := find(t, ml, w.ns); n.Sources != w.sources {
			t.Errorf("%s %v: sources %v, want %v", w.what, w.ns, n.Sources, w.sources)
		}
	}
	if n := find(t, ml, procNet); n.NProcs != 1 || n.PID != proc.Process.Pid {
		t.Errorf("%v: nprocs %d pid %d, want 1, %d", procNet, n.NProcs, n.PID, proc.Process.Pid)
	}
	self := os.Getpid()
	for fd, ns := range map[int]namespaces.NS{ipcFD: ipcNS, netFD: netNS} {
		for name, m := range map[string]*model.Model{"/proc": before, "listns": ml} {
			if n := find(t, m, ns); !slices.Contains(n.FDs, model.FD{PID: self, FD: fd}) {
				t.Errorf("%s: %v fds %v, want %d:%d", name, n.NS, n.FDs, self, fd)
			}
		}
	}
	for name, m := range map[string]*model.Model{"/proc": before, "listns": ml} {
		if n := find(t, m, sockNS); !slices.Contains(n.Sockets, model.FD{PID: self, FD: sock}) {
			t.Errorf("%s: the socket-held %v has sockets %v, want %d:%d", name, sockNS, n.Sockets, self, sock)
		}
	}
	if lb[hidden.ID] != nil || la[hidden.ID] != nil {
		t.Errorf("/proc found %v, bind-mounted only in a mount namespace no task is in", hidden)
	}
}

// Auto adds what listns(2) lists that its pass missed, as root where the
// kernel has listns: the network namespace hiddenMountNetns makes is in
// its answer as "listns", whichever of proc and bpf ran (Source says
// which). Once a pass has added what listns lists, asking again adds
// nothing: what that costs, listns(2) and a map of the ids found, is
// logged (a measurement, not an assertion).
func TestAutoAddsWhatListnsLists(t *testing.T) {
	if !haveListns(t) {
		return
	}
	_, hidden := hiddenMountNetns(t)
	for _, opt := range []Options{{}, {Objects: true}} { // proc here, then bpf
		m, err := Run(opt, Auto{})
		if err != nil {
			t.Fatal(err)
		}
		if n := find(t, m, hidden); n.Sources != model.FromListns {
			t.Errorf("auto (%s): %v sources %v, want listns", m.Source, hidden, n.Sources)
		}
		if m.Source != "proc" && m.Source != "bpf" {
			t.Errorf("auto: source %q, want the pass's, proc or bpf", m.Source)
		}
	}

	p := &Pass{reg: newRegistry(), socks: newNetSockets()}
	p.nsfsDev, _ = nsfsDev(p.procRoot())
	defer p.reg.close()
	if err := (Proc{}).Discover(p); err != nil {
		t.Fatal(err)
	}
	if added, _, err := p.addListed(); err != nil || added < 1 {
		t.Fatalf("addListed after the walk: %d added, %v; want the hidden netns at least", added, err)
	}
	var again int
	r := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			added, _, err := p.addListed()
			if err != nil {
				b.Fatal(err)
			}
			again += added
		}
	})
	if again != 0 {
		t.Errorf("addListed once more added %d namespaces; want none", again)
	}
	ids, _ := linux.Listns(0)
	t.Logf("listns after a pass that missed nothing: %s/op, %d B/op, %d namespaces listed, %d found", time.Duration(r.NsPerOp()), r.AllocedBytesPerOp(), len(ids), len(p.reg.order))
}

// An unprivileged caller gets no error from listns(2) but a subset: the
// namespaces it is in (the kernel's selftest
// listns_unprivileged_current_only). A thread of this process that gave
// up root (setresuid on itself only) sees its own network namespace and
// not a new one a child is in, and the source refuses it by capability.
func TestListnsUnprivileged(t *testing.T) {
	if !haveListns(t) {
		return
	}
	child := startSleeper(t, &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNET})
	other := nsOf(t, child.Process.Pid, "net")
	own := nsAt(t, "/proc/self/ns/net")
	all, err := linux.Listns(unix.CLONE_NEWNET)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(all, other.ID) || !slices.Contains(all, own.ID) {
		t.Fatalf("root's listns(CLONE_NEWNET) %v lacks %s or %s", all, other.IDText(), own.IDText())
	}
	var (
		ids    []uint64
		listEr error
		usable error
	)
	_, err = testutil.OnThread(t, func() error {
		// The raw call changes this thread's credentials only (Go's
		// Setresuid changes every thread's); its capabilities go with
		// uid 0. The thread is never given back to the scheduler.
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, 65534, 65534, 65534); e != 0 {
			return e
		}
		runtime.Gosched()
		ids, listEr = linux.Listns(unix.CLONE_NEWNET)
		usable = ListnsUsable()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if listEr != nil {
		t.Fatalf("unprivileged listns: %v, want a filtered answer without an error", listEr)
	}
	if !slices.Contains(ids, own.ID) || slices.Contains(ids, other.ID) || len(ids) >= len(all) {
		t.Errorf("unprivileged listns(CLONE_NEWNET) = %v (root: %v); want its own netns %s and not the child's %s", ids, all, own.IDText(), other.IDText())
	}
	if !errors.Is(usable, ErrListnsFiltered) {
		t.Errorf("ListnsUsable without CAP_SYS_ADMIN: %v, want ErrListnsFiltered", usable)
	}
}

// On a kernel without listns(2) (the 6.18 host) the source fails before it
// records anything, with an error that matches features.ErrMissing; with
// it, root gets every namespace it is in.
func TestListnsPresentOrMissing(t *testing.T) {
	testutil.RequireRoot(t)
	_, err := linux.Listns(0)
	if !features.Has(features.Listns) {
		if !errors.Is(err, unix.ENOSYS) {
			t.Errorf("listns on a kernel the probe says lacks it: %v, want ENOSYS", err)
		}
		m, err := Run(Options{}, Listns{})
		if !errors.Is(err, features.ErrMissing) || m != nil {
			t.Errorf("Run(Listns): %v, %v; want nil and features.ErrMissing", m, err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	m, err := Run(Options{}, Listns{})
	if err != nil {
		t.Fatal(err)
	}
	for _, link := range []string{"net", "mnt", "user", "pid", "uts", "ipc", "cgroup"} {
		find(t, m, nsAt(t, "/proc/self/ns/"+link))
	}
}
