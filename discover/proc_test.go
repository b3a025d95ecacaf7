package discover

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/procinfo"
)

// Other packages' tests create and kill namespaces, and may run scanners
// that hold fds on every namespace, while these run. Every assertion is
// about namespaces these tests made, and none assumes that nobody else
// holds them.

// start runs argv (util-linux) as a child and kills and reaps it at
// cleanup.
func start(t *testing.T, argv ...string) *exec.Cmd {
	t.Helper()
	testutil.RequireCommand(t, argv[0], "util-linux")
	return testutil.Start(t, argv...)
}

// nsAt identifies the nsfs file at path.
func nsAt(t *testing.T, path string) namespaces.NS {
	t.Helper()
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	ns, err := namespaces.FromFD(fd)
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// nsOf identifies /proc/PID/ns/<link>, waiting until the child's
// namespace differs from ours (unshare(1) has not unshared yet right after
// fork).
func nsOf(t *testing.T, pid int, link string) namespaces.NS {
	t.Helper()
	self, err := procinfo.Self()
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	mine, err := self.Namespace(link)
	if err != nil {
		t.Fatal(err)
	}
	p, err := procinfo.Open(pid)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := 0; i < 5000; i++ {
		ns, err := p.Namespace(link)
		if err != nil {
			t.Fatalf("pid %d %s: %v", pid, link, err)
		}
		if !ns.Same(mine) {
			return ns
		}
		runtime.Gosched()
		unix.Nanosleep(&unix.Timespec{Nsec: 1e6}, nil)
	}
	t.Fatalf("pid %d never left our %s namespace", pid, link)
	return namespaces.NS{}
}

// waitFor polls /proc/PID/<file> until cond holds for its contents:
// unshare(1) forks and execs after it returns, and a scan must not race
// with that.
func waitFor(t *testing.T, pid int, file string, cond func(string) bool) {
	t.Helper()
	for i := 0; i < 5000; i++ {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, file))
		if err == nil && cond(strings.TrimSpace(string(b))) {
			return
		}
		unix.Nanosleep(&unix.Timespec{Nsec: 1e6}, nil)
	}
	t.Fatalf("pid %d: /proc/%d/%s never became what the test waits for", pid, pid, file)
}

func isSleep(comm string) bool { return comm == "sleep" }

func mustScan(t *testing.T) *model.Model {
	t.Helper()
	return mustDiscover(t, Options{})
}

func mustDiscover(t *testing.T, opt Options) *model.Model {
	t.Helper()
	res, err := Discover(opt)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func find(t *testing.T, res *model.Model, ns namespaces.NS) *model.Namespace {
	t.Helper()
	for _, n := range res.Namespaces {
		if n.Key() == ns.Key() {
			if n.Ino != ns.Ino || n.Type != ns.Type || n.ID != ns.ID {
				t.Fatalf("%v: scan says %v %s, kernel says %v %s", ns.Key(), n.NS, n.IDText(), ns, ns.IDText())
			}
			return n
		}
	}
	t.Fatalf("%v (%s) not found among %d namespaces", ns, ns.IDText(), len(res.Namespaces))
	return nil
}

// A process in new namespaces: counted with its parent unshare(1), the
// lowest PID's command line and PPID shown, as lsns shows them.
func TestScanProcesses(t *testing.T) {
	testutil.RequireRoot(t)
	cmd := start(t, "unshare", "--uts", "--ipc", "--net", "--pid", "--kill-child", "sleep", "600")
	unsharePID := cmd.Process.Pid
	uts := nsOf(t, unsharePID, "uts")
	// --kill-child: sleep, pid 1 of its namespace, must not outlive the
	// test when unshare is killed.
	task := fmt.Sprintf("task/%d/children", unsharePID)
	waitFor(t, unsharePID, task, func(s string) bool { return s != "" })
	res := mustScan(t)
	n := find(t, res, uts)
	if n.NProcs != 2 || n.PID != unsharePID || n.PPID != os.Getpid() {
		t.Errorf("uts: nprocs %d pid %d ppid %d; want 2 (unshare and sleep), %d, %d", n.NProcs, n.PID, n.PPID, unsharePID, os.Getpid())
	}
	if want := "unshare --uts --ipc --net --pid --kill-child sleep 600"; n.Command != want {
		t.Errorf("uts: command %q, want %q", n.Command, want)
	}
	if n.Sources&model.FromProcess == 0 || n.Owner == nil || n.Owner.Type != namespaces.User {
		t.Errorf("uts: sources %v owner %v", n.Sources, n.Owner)
	}
	// The new pid namespace holds only sleep; unshare stays outside it but
	// has it as pid_for_children.
	pidns := nsOf(t, unsharePID, "pid_for_children")
	p := find(t, res, pidns)
	if p.NProcs != 1 || p.PID == unsharePID || p.Parent == nil || p.Parent.Type != namespaces.PID {
		t.Errorf("pid ns: nprocs %d pid %d parent %v; want 1 process (sleep) and a parent", p.NProcs, p.PID, p.Parent)
	}
	if p.Sources&model.FromChildren == 0 {
		t.Errorf("pid ns: sources %v, want for_children (unshare's pid_for_children)", p.Sources)
	}
}

// A namespace only one thread is in: a goroutine locks its thread and
// unshares; the thread never goes back to the pool and dies with it.
func TestScanThreadOnly(t *testing.T) {
	testutil.RequireRoot(t)
	tid := testutil.ThreadUnshare(t, unix.CLONE_NEWUTS)
	ns := nsAt(t, fmt.Sprintf("/proc/self/task/%d/ns/uts", tid))
	m := struct {
		ns  namespaces.NS
		tid int
	}{ns, tid}
	n := find(t, mustScan(t), m.ns)
	if n.Sources&model.FromThread == 0 || n.NProcs != 0 {
		t.Errorf("sources %v nprocs %d; want thread, 0 processes", n.Sources, n.NProcs)
	}
	if !slices.Contains(n.Threads, model.TaskRef{PID: os.Getpid(), TID: m.tid}) {
		t.Errorf("threads %v, want %d:%d among them", n.Threads, os.Getpid(), m.tid)
	}
}

// A network namespace held only by a bind mount, as ip netns add makes.
func TestScanBindMountOnly(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireCommand(t, "ip", "iproute2")
	name := fmt.Sprintf("nsinspect-scan-%d", os.Getpid())
	testutil.MustRun(t, testutil.Command(t, testutil.Quick, "ip", "netns", "add", name))
	t.Cleanup(func() {
		if _, err := testutil.Output(testutil.Command(t, testutil.Quick, "ip", "netns", "del", name)); err != nil {
			t.Error(err)
		}
	})
	path := "/run/netns/" + name
	ns := nsAt(t, path)
	n := find(t, mustScan(t), ns)
	if n.Sources&model.FromBindMount == 0 || n.NProcs != 0 {
		t.Errorf("sources %v nprocs %d; want bindmount, 0 processes", n.Sources, n.NProcs)
	}
	if !slices.ContainsFunc(n.BindMounts, func(b model.BindMount) bool { return b.Path == path }) {
		t.Errorf("bind mounts %+v, want %s among them", n.BindMounts, path)
	}
	// ip netns add assigns no nsid; the kernel says so, which is not
	// "unknown".
	if n.NetNSID != model.NetNSIDUnassigned {
		t.Errorf("netnsid %d, want %d (unassigned)", n.NetNSID, model.NetNSIDUnassigned)
	}
}

// A bind mount copied into a second mount namespace (unshare -m copies
// every mount, as a root lab's does) is the same path twice, and a scan
// finds both, listed by mount namespace. Which order the readers find
// them in is up to the kernel's walk; TestMergeOrdersBindMounts pins the
// ordering against both (CI once saw the BPF source and the /proc walk
// list the pair in opposite orders).
func TestScanBindMountInTwoMountNamespaces(t *testing.T) {
	testutil.RequireRoot(t)
	path := bindNetns(t)
	ns := nsAt(t, path)
	cmd := start(t, "unshare", "-m", "--propagation", "private", "sleep", "60")
	mnt := nsOf(t, cmd.Process.Pid, "mnt")
	for pass := range 2 {
		n := find(t, mustScan(t), ns)
		var at []model.BindMount
		for _, b := range n.BindMounts {
			if b.Path == path {
				at = append(at, b)
			}
		}
		// Other packages' tests, run meanwhile, may copy the mount into
		// their own mount namespaces too (a root lab does).
		if len(at) < 2 || !slices.ContainsFunc(at, func(b model.BindMount) bool { return b.MntNSIno == mnt.Ino }) {
			t.Fatalf("pass %d: bind mounts at %s: %+v; want ours and one in the copy's mount namespace %v", pass, path, at, mnt)
		}
		for i := 1; i < len(at); i++ {
			if at[i-1].MntNSIno >= at[i].MntNSIno {
				t.Errorf("pass %d: bind mounts at one path not ordered by mount namespace: %+v", pass, at)
			}
		}
		// NSFS is lsns's column: our own mount namespace's, once.
		if !slices.Equal(n.NSFS, []string{path}) {
			t.Errorf("pass %d: NSFS %q, want [%s]", pass, n.NSFS, path)
		}
	}
}

// The merge orders one namespace's bind mounts by path, then mount
// namespace, whichever reader found which first.
func TestMergeOrdersBindMounts(t *testing.T) {
	for _, first := range []uint64{7, 3} {
		e := &entry{ns: &model.Namespace{}}
		p := &Pass{reg: &registry{order: []*entry{e}}}
		f := &findings{}
		for _, ino := range []uint64{first, 10 - first, 1} {
			path := "/run/netns/a"
			if ino == 1 {
				path = "/run/netns/b"
			}
			f.holds = append(f.holds, hold{e: e, mount: &model.BindMount{Path: path, MntNSIno: ino}})
		}
		p.found = []*findings{f}
		p.merge(&model.Model{})
		var got []string
		for _, b := range e.ns.BindMounts {
			got = append(got, fmt.Sprintf("%s@%d", b.Path, b.MntNSIno))
		}
		if want := "[/run/netns/a@3 /run/netns/a@7 /run/netns/b@1]"; fmt.Sprint(got) != want {
			t.Errorf("found %d first: merged %v, want %s", first, got, want)
		}
	}
}

// holdOnly starts argv, opens its /proc/PID/ns/<link>, then kills and
// reaps it: the namespace then lives only through the returned fd.
func holdOnly(t *testing.T, link string, argv ...string) (int, namespaces.NS) {
	t.Helper()
	cmd := start(t, argv...)
	ns := nsOf(t, cmd.Process.Pid, link)
	fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/%s", cmd.Process.Pid, link), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	cmd.Process.Kill()
	cmd.Wait()
	if got, err := namespaces.FromFD(fd); err != nil || !got.Same(ns) {
		t.Fatalf("held fd: %v, %v; want %v", got, err, ns)
	}
	return fd, ns
}

// A namespace nobody is in, held by an open fd of this process.
func TestScanFDOnly(t *testing.T) {
	testutil.RequireRoot(t)
	fd, ns := holdOnly(t, "ipc", "unshare", "--ipc", "sleep", "600")
	n := find(t, mustScan(t), ns)
	if n.Sources&model.FromFD == 0 || n.NProcs != 0 {
		t.Errorf("sources %v nprocs %d; want fd, 0 processes", n.Sources, n.NProcs)
	}
	if !slices.Contains(n.FDs, model.FD{PID: os.Getpid(), FD: fd}) {
		t.Errorf("fds %v, want %d:%d among them", n.FDs, os.Getpid(), fd)
	}
}

// A namespace held only by an fd in a thread's own fd table (the thread
// called unshare(CLONE_FILES) and then opened it): /proc/PID/fd is the
// leader's table, so the walk must read the thread's /proc/PID/task/TID/fd
// as the BPF iterator (iter/task_file) visits every table. An fd the
// thread's table copied from the leader's is one holder, not two.
func TestScanThreadOwnFDTable(t *testing.T) {
	testutil.RequireRoot(t)
	cmd := start(t, "unshare", "--ipc", "sleep", "600")
	ns := nsOf(t, cmd.Process.Pid, "ipc")
	shared, err := unix.Open(fmt.Sprintf("/proc/%d/ns/uts", cmd.Process.Pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(shared) })
	sharedNS, err := namespaces.FromFD(shared)
	if err != nil {
		t.Fatal(err)
	}
	var own int
	_, err = testutil.OnThread(t, func() error {
		if err := unix.Unshare(unix.CLONE_FILES); err != nil {
			return err
		}
		var err error
		own, err = unix.Open(fmt.Sprintf("/proc/%d/ns/ipc", cmd.Process.Pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		t.Fatalf("thread setup: %v", err)
	}
	// The thread's table goes with the thread (at the test's end), and
	// its fd with it.
	cmd.Process.Kill()
	cmd.Wait()
	self := os.Getpid()
	for _, s := range []Source{Proc{}, BPF{}} {
		if _, ok := s.(BPF); ok {
			requireBPF(t)
		}
		m, err := Run(Options{}, s)
		if err != nil {
			t.Fatal(err)
		}
		n := m.Lookup(ns)
		if n == nil {
			t.Errorf("%s: %v, held only by fd %d of a thread's own table, not found", s.Name(), ns, own)
		} else if n.Sources&model.FromFD == 0 || !slices.Contains(n.FDs, model.FD{PID: self, FD: own}) {
			t.Errorf("%s: %v sources %v fds %v; want fd %d:%d among its holders", s.Name(), ns, n.Sources, n.FDs, self, own)
		}
		if n := m.Lookup(sharedNS); n == nil {
			t.Errorf("%s: %v, held by fd %d, not found", s.Name(), sharedNS, shared)
		} else if c := slices.Index(n.FDs, model.FD{PID: self, FD: shared}); c < 0 || slices.Contains(n.FDs[c+1:], n.FDs[c]) {
			t.Errorf("%s: %v fds %v; want %d:%d once (the thread's copy of the leader's fd is the same holder)", s.Name(), sharedNS, n.FDs, self, shared)
		}
	}
}

// The same fd named in Options.OwnFDs is the caller's, as ls -p's pins
// are: no source reports it as a holder. (The /proc walk then does not
// find the namespace at all; the BPF source still registers it, having met
// it in our fd table, but with no source.) Another process may hold it
// for a moment: a discover pass of another package's tests, run beside
// this one by go test ./..., holds every namespace it records (seen once,
// in a CI run); such a holder is not ours and does not fail the test.
func TestScanOwnFDsAreNoHolders(t *testing.T) {
	testutil.RequireRoot(t)
	fd, ns := holdOnly(t, "ipc", "unshare", "--ipc", "sleep", "600")
	for _, s := range []Source{Proc{}, BPF{}} {
		if _, ok := s.(BPF); ok {
			requireBPF(t)
		}
		m, err := Run(Options{OwnFDs: []int{fd}}, s)
		if err != nil {
			t.Fatal(err)
		}
		n := m.Lookup(ns)
		if n == nil {
			continue
		}
		foreign := 0
		for _, h := range n.FDs {
			if h.PID == os.Getpid() {
				t.Errorf("%s: %v held by our own fd %v (sources %v); Options.OwnFDs names it", s.Name(), ns, h, n.Sources)
			} else {
				foreign++
			}
		}
		if foreign == 0 && n.Sources&model.FromFD != 0 {
			t.Errorf("%s: %v has the fd source but no holder (fds %v)", s.Name(), ns, n.FDs)
		}
		if foreign > 0 {
			t.Logf("%s: %v also held by another process: %v", s.Name(), ns, n.FDs)
		}
	}
}

// A user namespace reachable only as the owner of a network namespace
// that an fd holds: no process, thread, mount or fd refers to it.
func TestScanOwnerOnly(t *testing.T) {
	testutil.RequireRoot(t)
	_, netns := holdOnly(t, "net", "unshare", "--user", "--map-root-user", "--net", "sleep", "600")
	res := mustScan(t)
	n := find(t, res, netns)
	if n.Owner == nil || n.Owner.Type != namespaces.User {
		t.Fatalf("net ns owner %v, want a user namespace", n.Owner)
	}
	u := n.Owner
	if u.NProcs != 0 || u.Sources&(model.FromProcess|model.FromThread|model.FromBindMount) != 0 {
		t.Errorf("user ns: nprocs %d sources %v; want no process, thread or mount", u.NProcs, u.Sources)
	}
	// A concurrent scanner may hold an fd on it, which makes it found by
	// fd first; otherwise it must be marked as found through ownership.
	if len(u.FDs) == 0 && u.Sources != model.FromOwner {
		t.Errorf("user ns sources %v, want exactly owner", u.Sources)
	}
	if u.Parent == nil || u.Parent.Type != namespaces.User {
		t.Errorf("user ns parent %v, want the initial user namespace", u.Parent)
	}
}

// Processes that come and go during scans never make a scan fail, and
// never change what is counted for a stable process.
func TestScanChurn(t *testing.T) {
	testutil.RequireRoot(t)
	cmd := start(t, "unshare", "--uts", "sleep", "600")
	uts := nsOf(t, cmd.Process.Pid, "uts")
	waitFor(t, cmd.Process.Pid, "comm", isSleep)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				testutil.Run(testutil.Quick, "unshare", "--ipc", "--net", "true")
			}
		})
	}
	defer func() { close(stop); wg.Wait() }()
	for i := 0; i < 20; i++ {
		n := find(t, mustScan(t), uts)
		if n.NProcs != 1 || n.PID != cmd.Process.Pid || !strings.HasPrefix(n.Command, "sleep") {
			t.Fatalf("scan %d: nprocs %d pid %d %q; want 1, %d, sleep", i, n.NProcs, n.PID, n.Command, cmd.Process.Pid)
		}
	}
}

// A scan closes every fd it opened.
func TestScanLeaksNoFDs(t *testing.T) {
	testutil.RequireRoot(t)
	count := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	mustScan(t) // let the runtime and netlink set up what they keep
	before := count()
	mustScan(t)
	if after := count(); after != before {
		t.Errorf("open fds: %d before a scan, %d after", before, after)
	}
}
