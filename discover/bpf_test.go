package discover

import (
	"bufio"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/bpfiter"
	"github.com/nsinspect/nsinspect/features"
	"github.com/nsinspect/nsinspect/internal/taskobj"
	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/namespaces"
)

// population is what TestBPFAgreesWithProc makes: processes, threads, a
// bind mount and fds that hold namespaces in each of the ways the two
// sources look for them. Everything is killed, reaped and unmounted at
// cleanup; the namespaces die with it.
type population struct {
	pids map[int]bool // processes made for the test
	tids map[int]bool // threads of the test process that belong to it
	// The holders made for one source each, checked by name.
	thread, setnsChild, setnsTarget, forChildren, fdHolder, zombie int
	mount                                                          string
}

func (p *population) has(task *model.Task) bool { return p.pids[task.PID] || p.tids[task.TID] }

// startSleeper starts sleep 1000 with extra clone attributes; it is
// killed and reaped at cleanup.
func startSleeper(t *testing.T, attr *syscall.SysProcAttr, extra ...*os.File) *exec.Cmd {
	t.Helper()
	cmd := testutil.Command(t, testutil.Held, "sleep", "1000")
	attr.Pdeathsig = syscall.SIGKILL
	cmd.SysProcAttr, cmd.ExtraFiles = attr, extra
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting sleep with %+v: %v", attr, err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// rootMap maps uid and gid 0 of a new user namespace to our 0.
var rootMap = []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}}

// startGroup starts a shell that is pid 1 of new namespaces (flags, which
// include CLONE_NEWPID) and runs n sleeps there, and returns its pid and
// theirs once all are forked. Killing the shell's pid namespace init
// kills and reaps the sleeps.
func startGroup(t *testing.T, flags uintptr, n int) []int {
	t.Helper()
	script := fmt.Sprintf(`i=0; while [ $i -lt %d ]; do sleep 1000 </dev/null >/dev/null 2>&1 & i=$((i+1)); done; echo ready; exec sleep 1000`, n)
	cmd := testutil.Command(t, testutil.Held, "sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: flags, Pdeathsig: syscall.SIGKILL}
	if flags&unix.CLONE_NEWUSER != 0 {
		cmd.SysProcAttr.UidMappings, cmd.SysProcAttr.GidMappings = rootMap, rootMap
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("group %#x: %q, %v", flags, line, err)
	}
	pids := append([]int{cmd.Process.Pid}, childrenOf(t, cmd.Process.Pid)...)
	if len(pids) != n+1 {
		t.Fatalf("group %#x: %d children, want %d", flags, len(pids)-1, n)
	}
	return pids
}

// startFromSetnsThread makes a thread of ours setns(2) into target's
// net, uts and ipc namespaces and start a sleep from there, as nsenter(1)
// would: the child has target's namespaces in an nsproxy of its own. The
// thread stays parked until the test ends and then exits with its
// goroutine, never going back to the Go scheduler.
func startFromSetnsThread(t *testing.T, target int) (child, tid int) {
	t.Helper()
	var cmd *exec.Cmd
	tid, err := testutil.OnThread(t, func() error {
		for _, l := range []string{"net", "uts", "ipc"} {
			fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/%s", target, l), unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err == nil {
				err = unix.Setns(fd, 0)
				unix.Close(fd)
			}
			if err != nil {
				return fmt.Errorf("setns %s of %d: %w", l, target, err)
			}
		}
		cmd = testutil.Command(t, testutil.Held, "sleep", "1000")
		return cmd.Start()
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd.Process.Pid, tid
}

// bindNetns bind-mounts a new network namespace on a file of a temp
// directory, as ip netns add does, and returns the path: the mount is the
// only holder of the namespace. It is unmounted at cleanup.
func bindNetns(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "netns")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	netns := startSleeper(t, &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNET})
	if err := unix.Mount(fmt.Sprintf("/proc/%d/ns/net", netns.Process.Pid), path, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind-mounting a netns: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(path, unix.MNT_DETACH); err != nil {
			t.Errorf("unmounting %s: %v", path, err)
		}
	})
	netns.Process.Kill()
	netns.Wait()
	return path
}

// startForChildren runs script in a shell that unshared CLONE_NEWPID
// before exec (so only its pid_for_children is new) and returns its pid
// once the script printed "ready".
func startForChildren(t *testing.T, script string) int {
	t.Helper()
	cmd := testutil.Command(t, testutil.Held, "sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: unix.CLONE_NEWPID, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		// The shell waits for its children, so it reaps them and exits
		// once they are killed; killing it first would leave them to
		// init.
		kids, _ := children(pid)
		for _, c := range kids {
			syscall.Kill(c, syscall.SIGKILL)
		}
		if len(kids) == 0 {
			cmd.Process.Kill()
		}
		cmd.Wait()
	})
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("%q: %q, %v", script, line, err)
	}
	return pid
}

// children lists the children of process pid's leader.
func children(pid int) ([]int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	var out []int
	for _, f := range strings.Fields(string(b)) {
		c, _ := strconv.Atoi(f)
		out = append(out, c)
	}
	return out, err
}

func childrenOf(t *testing.T, pid int) []int {
	t.Helper()
	out, err := children(pid)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// buildPopulation makes about 200 processes in four namespace groups and
// one holder of each kind.
func buildPopulation(t *testing.T) *population {
	t.Helper()
	testutil.RequireRoot(t)
	t.Cleanup(func() { testutil.NoChildren(t) }) // first, so that it runs after every reap
	self := os.Getpid()
	p := &population{pids: map[int]bool{}, tids: map[int]bool{self: true}}
	add := func(pids ...int) {
		for _, pid := range pids {
			p.pids[pid] = true
		}
	}
	var group1 []int
	for i, flags := range []uintptr{
		unix.CLONE_NEWPID | unix.CLONE_NEWNS | unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS,
		unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWUTS,
		unix.CLONE_NEWPID | unix.CLONE_NEWIPC | unix.CLONE_NEWCGROUP,
		unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWUTS,
	} {
		pids := startGroup(t, flags, 48)
		if i == 0 {
			group1 = pids
		}
		add(pids...)
	}
	// A thread that unshared: only its own /proc/PID/task/TID shows it.
	p.thread = testutil.ThreadUnshare(t, unix.CLONE_NEWNET|unix.CLONE_NEWUTS)
	p.tids[p.thread] = true
	// The nsenter case: a child of a thread that joined group 1's net,
	// uts and ipc namespaces.
	p.setnsTarget = group1[1]
	var setnsThread int
	p.setnsChild, setnsThread = startFromSetnsThread(t, p.setnsTarget)
	p.tids[setnsThread] = true
	add(p.setnsChild)
	// A process whose pid_for_children is not its pid namespace, and the
	// child that is that namespace's init: before it exists, /proc shows
	// no pid_for_children at all (TestBPFPidForChildrenWithoutInit).
	p.forChildren = startForChildren(t, "sleep 1000 </dev/null >/dev/null 2>&1 & echo ready; wait")
	add(p.forChildren)
	add(childrenOf(t, p.forChildren)...)
	p.mount = bindNetns(t)
	// Namespaces of a dead process (its user namespace, and the pid, uts
	// and net namespaces it owns) held by another's open fds.
	owner := startSleeper(t, &syscall.SysProcAttr{
		Cloneflags:  unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWUTS | unix.CLONE_NEWNET,
		UidMappings: rootMap, GidMappings: rootMap,
	})
	var files []*os.File
	for _, l := range []string{"user", "pid", "uts", "net"} {
		f, err := os.Open(fmt.Sprintf("/proc/%d/ns/%s", owner.Process.Pid, l))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	p.fdHolder = startSleeper(t, &syscall.SysProcAttr{}, files...).Process.Pid
	add(p.fdHolder)
	for _, f := range files {
		f.Close()
	}
	owner.Process.Kill()
	owner.Wait()
	// A zombie, the only task of its pid namespace.
	z := testutil.Command(t, testutil.Held, "sh", "-c", "exit 0")
	z.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWPID}
	if err := z.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { z.Wait() })
	var info unix.Siginfo
	if err := unix.Waitid(unix.P_PID, z.Process.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil); err != nil {
		t.Fatal(err)
	}
	p.zombie = z.Process.Pid
	add(p.zombie)
	return p
}

// requireBPF stops the test where BPF cannot run (a failure under
// CI=true).
func requireBPF(t *testing.T) {
	t.Helper()
	testutil.RequireRoot(t)
	if err := bpfiter.Probe(); err != nil {
		testutil.Unavailable(t, err.Error(), "run as root on a kernel with BTF (CONFIG_DEBUG_INFO_BTF=y), Linux 5.8+")
	}
}

func runSource(t *testing.T, s Source) *model.Model {
	t.Helper()
	m, err := Run(Options{Tasks: true}, s)
	if errors.Is(err, bpfiter.ErrUnavailable) {
		testutil.Unavailable(t, err.Error(), "run as root on a kernel with BTF (CONFIG_DEBUG_INFO_BTF=y), Linux 5.8+")
	}
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The BPF source and the /proc walk agree on a population made to hold
// namespaces every way there is: ~200 processes in four groups of new
// namespaces (one with a user namespace of its own), a thread that
// unshared, a child of a thread that setns'd, a process whose
// pid_for_children is new, a netns held only by a bind mount, namespaces
// of a dead process held by another's fds, and a zombie alone in its pid
// namespace. For every task both saw, every link is the same namespace
// (inode and id); the namespaces are the same, but for those held only by
// tasks that came or went between the passes or that /proc may not read
// (PID 1 on some VMs); owners and parents agree; and for the population's
// namespaces the sources, counts, lowest PID and holders do.
//
// The rest of the machine may change meanwhile (other packages' tests run
// in parallel). The /proc pass runs between two BPF passes, and a task
// that the two BPF passes do not show alike was moving and is left out.
// The other differences count: more than 2% of the tasks (or 2) fails the
// attempt, and five failed attempts fail the test. Any difference in the
// population fails at once.
func TestBPFAgreesWithProc(t *testing.T) {
	requireBPF(t)
	pop := buildPopulation(t)
	const attempts = 5
	for attempt := 1; ; attempt++ {
		before := runSource(t, BPF{})
		mp := runSource(t, Proc{})
		after := runSource(t, BPF{})
		c := crossCheck(pop, before, mp, moving(before, after))
		for _, e := range c.errs {
			t.Error(e)
		}
		if t.Failed() {
			return
		}
		t.Logf("attempt %d: %d tasks compared, %d moving, %d /proc could not read, %d differ, %d namespaces held only by those; differences: %s",
			attempt, c.compared, c.moving, c.denied, len(c.churn), c.explained, strings.Join(c.churn, "; "))
		if len(c.churn) <= max(2, c.total/50) {
			checkPopulation(t, pop, before)
			return
		}
		if attempt == attempts {
			t.Fatalf("%d of %d tasks or namespaces differed in each of %d attempts", len(c.churn), c.total, attempts)
		}
	}
}

// moving is the tasks that two passes of one source do not show alike:
// they came, went or changed namespaces in between.
func moving(a, b *model.Model) map[taskKey]bool {
	out := map[taskKey]bool{}
	in := map[taskKey]*model.Task{}
	for _, task := range a.Tasks {
		in[taskKey{task.PID, task.TID}] = task
	}
	for _, task := range b.Tasks {
		k := taskKey{task.PID, task.TID}
		if o := in[k]; o == nil || linkDiff(o, task) != "" {
			out[k] = true
		}
		delete(in, k)
	}
	for k := range in {
		out[k] = true
	}
	return out
}

// check is the outcome of one comparison of a BPF and a /proc model.
type check struct {
	errs  []string // differences that are bugs
	churn []string // differences explained by the machine changing
	// total tasks met; compared in both; moving between the BPF
	// passes; denied: /proc could not read them; explained: namespaces
	// only excluded tasks hold.
	total, compared, moving, denied, explained int
}

type taskKey struct{ pid, tid int }

// nsKey names a namespace the same way in both models: the models are
// separate passes, so their *model.Namespace pointers differ.
type nsKey struct {
	typ     namespaces.Type
	ino, id uint64
}

func keyOf(n *model.Namespace) nsKey {
	if n == nil {
		return nsKey{}
	}
	return nsKey{n.Type, n.Ino, n.ID}
}

func byNS(m *model.Model) map[nsKey]*model.Namespace {
	out := make(map[nsKey]*model.Namespace, len(m.Namespaces))
	for _, n := range m.Namespaces {
		out[keyOf(n)] = n
	}
	return out
}

// linkDiff says how two views of one task differ, "" when they agree.
func linkDiff(a, b *model.Task) string {
	var d []string
	for i, l := range namespaces.Links {
		if x, y := keyOf(a.NS[i]), keyOf(b.NS[i]); x != y {
			d = append(d, fmt.Sprintf("%s %v/%v", l.Name, x, y))
		}
	}
	if a.Zombie() != b.Zombie() {
		d = append(d, fmt.Sprintf("state %c/%c", a.State, b.State))
	}
	return strings.Join(d, ", ")
}

// supported is the set of namespaces m shows held by a task, fd or mount
// that is not excluded, and their owners and parents.
func supported(m *model.Model, exTask map[taskKey]bool, exPID map[int]bool) map[*model.Namespace]bool {
	sup := map[*model.Namespace]bool{}
	var mark func(n *model.Namespace)
	mark = func(n *model.Namespace) {
		if n != nil && !sup[n] {
			sup[n] = true
			mark(n.Owner)
			mark(n.Parent)
		}
	}
	for _, task := range m.Tasks {
		if !exTask[taskKey{task.PID, task.TID}] {
			for _, n := range task.NS {
				mark(n)
			}
		}
	}
	for _, n := range m.Namespaces {
		if len(n.BindMounts) > 0 || slices.ContainsFunc(n.FDs, func(fd model.FD) bool { return !exPID[fd.PID] }) {
			mark(n)
		}
	}
	return sup
}

// popNamespaces is the namespaces the population made: those its tasks,
// fds and mount hold, with their owners and parents, less those the test
// process itself was in before (the host's).
func popNamespaces(pop *population, m *model.Model) map[nsKey]bool {
	out := map[nsKey]bool{}
	var walk func(n *model.Namespace, set map[nsKey]bool)
	walk = func(n *model.Namespace, set map[nsKey]bool) {
		if n != nil && !set[keyOf(n)] {
			set[keyOf(n)] = true
			walk(n.Owner, set)
			walk(n.Parent, set)
		}
	}
	host := map[nsKey]bool{}
	for _, task := range m.Tasks {
		for _, n := range task.NS {
			if task.PID == os.Getpid() && task.TID == task.PID {
				walk(n, host)
			} else if pop.has(task) {
				walk(n, out)
			}
		}
	}
	for _, n := range m.Namespaces {
		if slices.ContainsFunc(n.FDs, func(fd model.FD) bool { return pop.pids[fd.PID] }) ||
			slices.ContainsFunc(n.BindMounts, func(b model.BindMount) bool { return b.Path == pop.mount }) {
			walk(n, out)
		}
	}
	for k := range host {
		delete(out, k)
	}
	return out
}

// nsDiff says how two views of one of the population's namespaces differ.
// How a namespace was first reached (parent, owner) depends on the order
// of the walk, so those bits are left out; bind mounts are compared by
// path and mount namespace, not by the process they were read through.
//
// Only the population's own holders are compared: a process of the rest
// of the machine may hold the population's namespaces for an instant (a
// parallel package's discovery opening /proc/PID/ns/* to ask NS_GET_PARENT)
// and a mount namespace made meanwhile copies the bind mount (CI failed
// on both: fds of one outside pid and a copy in a mount namespace neither
// pass saw whole). Where only such holders differ, the fd and bind-mount
// source bits are not compared either.
func nsDiff(pop *population, a, b *model.Namespace, bothMnt func(ino uint64) bool) string {
	var d []string
	diff := func(what string, x, y any) {
		if fmt.Sprint(x) != fmt.Sprint(y) {
			d = append(d, fmt.Sprintf("%s %v/%v", what, x, y))
		}
	}
	fds := func(n *model.Namespace) (out []model.FD) {
		for _, fd := range n.FDs {
			if pop.pids[fd.PID] {
				out = append(out, fd)
			}
		}
		return out
	}
	mounts := func(n *model.Namespace) (out []string) {
		for _, m := range n.BindMounts {
			if bothMnt(m.MntNSIno) {
				out = append(out, fmt.Sprintf("%s@%d", m.Path, m.MntNSIno))
			}
		}
		return out
	}
	ignore := model.Hierarchy
	if fmt.Sprint(a.FDs) != fmt.Sprint(b.FDs) {
		ignore |= model.FromFD
	}
	if len(a.BindMounts) != len(b.BindMounts) {
		ignore |= model.FromBindMount
	}
	diff("sources", a.Sources&^ignore, b.Sources&^ignore)
	diff("nprocs", a.NProcs, b.NProcs)
	diff("zombies", a.Zombies, b.Zombies)
	diff("pid", a.PID, b.PID)
	diff("ppid", a.PPID, b.PPID)
	diff("uid", a.UID, b.UID)
	diff("command", a.Command, b.Command)
	diff("threads", a.Threads, b.Threads)
	diff("fds", fds(a), fds(b))
	diff("bindmounts", mounts(a), mounts(b))
	return strings.Join(d, ", ")
}

// crossCheck compares the BPF model b with the /proc model p, leaving out
// the tasks that were moving, except the population's.
func crossCheck(pop *population, b, p *model.Model, move map[taskKey]bool) *check {
	c := &check{}
	tasks := map[taskKey][2]*model.Task{}
	for i, m := range []*model.Model{b, p} {
		for _, task := range m.Tasks {
			k := taskKey{task.PID, task.TID}
			pair := tasks[k]
			pair[i] = task
			tasks[k] = pair
		}
	}
	denied := map[int]bool{}
	for _, task := range p.Tasks {
		if !task.Readable() && !task.Zombie() {
			denied[task.PID] = true
		}
	}
	exTask, exPID := map[taskKey]bool{}, map[int]bool{}
	exclude := func(k taskKey) {
		exTask[k] = true
		if k.pid == k.tid {
			exPID[k.pid] = true
		}
	}
	c.total = len(tasks)
	for k, pair := range tasks {
		tb, tp := pair[0], pair[1]
		either := cmpOr(tb, tp)
		switch {
		case denied[k.pid]:
			c.denied++
			exclude(k)
		case move[k] && !pop.has(either):
			c.moving++
			exclude(k)
		case tb == nil || tp == nil:
			msg := fmt.Sprintf("task %d:%d (%s) seen by bpf %v, by proc %v", k.pid, k.tid, either.Comm, tb != nil, tp != nil)
			if pop.has(either) {
				c.errs = append(c.errs, "population "+msg)
			} else {
				c.churn = append(c.churn, msg)
				exclude(k)
			}
		default:
			d := linkDiff(tb, tp)
			if pop.has(either) && (tb.Comm != tp.Comm || tb.PPID != tp.PPID) {
				d += fmt.Sprintf(" comm %q/%q ppid %d/%d", tb.Comm, tp.Comm, tb.PPID, tp.PPID)
			}
			switch {
			case d == "":
				c.compared++
			case pop.has(either):
				c.errs = append(c.errs, fmt.Sprintf("population task %d:%d (%s), bpf/proc: %s", k.pid, k.tid, tb.Comm, d))
			default:
				c.churn = append(c.churn, fmt.Sprintf("task %d:%d (%s) changed: %s", k.pid, k.tid, tb.Comm, d))
				exclude(k)
			}
		}
	}
	c.namespaces(pop, b, p, exTask, exPID)
	return c
}

func cmpOr(a, b *model.Task) *model.Task {
	if a != nil {
		return a
	}
	return b
}

// namespaces compares the two models' namespaces.
func (c *check) namespaces(pop *population, b, p *model.Model, exTask map[taskKey]bool, exPID map[int]bool) {
	nb, np := byNS(b), byNS(p)
	// The population's namespaces as either model shows them, so that
	// one missing a holder still compares the namespace.
	popNS := popNamespaces(pop, b)
	maps.Copy(popNS, popNamespaces(pop, p))
	bothMnt := func(ino uint64) bool {
		in := func(m map[nsKey]*model.Namespace) bool {
			for k := range m {
				if k.typ == namespaces.Mount && k.ino == ino {
					return true
				}
			}
			return false
		}
		return in(nb) && in(np)
	}
	for i, side := range []struct {
		name        string
		mine, other map[nsKey]*model.Namespace
		sup         map[*model.Namespace]bool
	}{
		{"bpf", nb, np, supported(b, exTask, exPID)},
		{"proc", np, nb, supported(p, exTask, exPID)},
	} {
		for k, n := range side.mine {
			o := side.other[k]
			if o == nil {
				msg := fmt.Sprintf("namespace %v (id %d, sources %v) only in %s", n.NS, n.ID, n.Sources, side.name)
				switch {
				case popNS[k]:
					c.errs = append(c.errs, "population "+msg)
				case !side.sup[n]:
					c.explained++
				default:
					c.churn = append(c.churn, msg)
				}
				continue
			}
			if i == 1 {
				continue // pairs are compared once
			}
			if keyOf(n.Owner) != keyOf(o.Owner) || keyOf(n.Parent) != keyOf(o.Parent) {
				msg := fmt.Sprintf("namespace %v: owner %v/%v parent %v/%v (bpf/proc)", n.NS, keyOf(n.Owner), keyOf(o.Owner), keyOf(n.Parent), keyOf(o.Parent))
				if popNS[k] || k.id != 0 {
					c.errs = append(c.errs, msg)
				} else {
					c.churn = append(c.churn, msg+": an inode reused between passes?")
				}
			}
			if popNS[k] {
				if d := nsDiff(pop, n, o, bothMnt); d != "" {
					c.errs = append(c.errs, fmt.Sprintf("population namespace %v, bpf/proc: %s", n.NS, d))
				}
			}
		}
	}
}

// checkPopulation checks, in the BPF model that the /proc one agreed
// with, that each holder shows as what it was made to be: a check of both
// sources at once, where agreeing alone would not catch a shared mistake.
func checkPopulation(t *testing.T, pop *population, m *model.Model) {
	t.Helper()
	self := os.Getpid()
	n := 0
	for _, task := range m.Tasks {
		if pop.has(task) {
			n++
		}
	}
	if n < 200 {
		t.Errorf("%d population tasks, want at least 200", n)
	}
	find := func(pid, tid int, link string) *model.Namespace {
		t.Helper()
		task := taskOf(m, pid, tid)
		if task == nil {
			t.Fatalf("task %d:%d missing", pid, tid)
		}
		ns, why := task.Link(link)
		if ns == nil {
			t.Fatalf("task %d:%d has no %s: %s", pid, tid, link, why)
		}
		return ns
	}
	for _, l := range []string{"net", "uts"} {
		ns := find(self, pop.thread, l)
		if ns == find(self, self, l) || ns.Sources&model.FromThread == 0 || !slices.Contains(ns.Threads, model.TaskRef{PID: self, TID: pop.thread}) {
			t.Errorf("unshared thread's %s %v: sources %v threads %v; want a thread-only namespace", l, ns.NS, ns.Sources, ns.Threads)
		}
	}
	child, target := taskOf(m, pop.setnsChild, pop.setnsChild), taskOf(m, pop.setnsTarget, pop.setnsTarget)
	for _, l := range []string{"net", "uts", "ipc"} {
		if find(pop.setnsChild, pop.setnsChild, l) != find(pop.setnsTarget, pop.setnsTarget, l) {
			t.Errorf("setns child's %s is not its target's", l)
		}
	}
	if child.Objects[taskobj.NSProxy] == target.Objects[taskobj.NSProxy] {
		t.Errorf("setns child and target share nsproxy %d; setns(2) gives a new one", child.Objects[taskobj.NSProxy])
	}
	if p4c := find(pop.forChildren, pop.forChildren, "pid_for_children"); p4c == find(pop.forChildren, pop.forChildren, "pid") || p4c.Sources&model.FromChildren == 0 || p4c.NProcs != 1 {
		t.Errorf("pid_for_children %v: sources %v nprocs %d; want for_children, and its init as its one process", p4c.NS, p4c.Sources, p4c.NProcs)
	}
	if z := find(pop.zombie, pop.zombie, "pid"); z.Sources&(model.FromZombie|model.FromProcess) != model.FromZombie || z.NProcs != 1 || z.Zombies != 1 {
		t.Errorf("zombie's pid namespace %v: sources %v nprocs %d zombies %d; want zombie only, 1 and 1", z.NS, z.Sources, z.NProcs, z.Zombies)
	}
	held := map[namespaces.Type]*model.Namespace{}
	for _, ns := range m.Namespaces {
		if slices.ContainsFunc(ns.BindMounts, func(b model.BindMount) bool { return b.Path == pop.mount }) &&
			(ns.Type != namespaces.Net || ns.Sources&model.FromBindMount == 0 || ns.NProcs != 0) {
			t.Errorf("bind-mounted %v: sources %v nprocs %d; want a net namespace held by the mount only", ns.NS, ns.Sources, ns.NProcs)
		}
		if slices.ContainsFunc(ns.FDs, func(fd model.FD) bool { return fd.PID == pop.fdHolder }) {
			held[ns.Type] = ns
		}
	}
	if len(held) != 4 || held[namespaces.User] == nil || held[namespaces.PID] == nil {
		t.Fatalf("fd holder %d holds %v; want user, pid, uts and net", pop.fdHolder, held)
	}
	user := held[namespaces.User]
	for typ, ns := range held {
		if ns.NProcs != 0 || ns.Sources&model.FromFD == 0 || (typ != namespaces.User && ns.Owner != user) {
			t.Errorf("fd-held %v: nprocs %d sources %v owner %v; want fd only, owned by %v", ns.NS, ns.NProcs, ns.Sources, ns.Owner, user.NS)
		}
	}
	if user.Parent == nil || user.Parent != find(self, self, "user") || held[namespaces.PID].Parent != find(self, self, "pid") {
		t.Errorf("fd-held user ns parent %v, pid ns parent %v; want ours", user.Parent, held[namespaces.PID].Parent)
	}
}

// After unshare(CLONE_NEWPID) and before its first child, a process's new
// pid namespace has no init, and /proc shows no pid_for_children for it
// (pidns_for_children_get answers NULL: the link is ENOENT). The BPF
// source reads it from the task's nsproxy, the /proc walk opens it with
// PIDFD_GET_PID_FOR_CHILDREN_NAMESPACE (Linux 6.11): both list it, as a
// namespace no process is in yet (sources for_children and unborn), and
// give the task that link. Before 6.11 the /proc walk cannot: it keeps the
// process with that link missing, and says why. From 7.1 the link opens,
// and the /proc walk marks the namespace unborn when pid 1 does not exist
// in it (NS_GET_PID_FROM_PIDNS answers ESRCH).
func TestBPFPidForChildrenWithoutInit(t *testing.T) {
	requireBPF(t)
	cmd := startSleeper(t, &syscall.SysProcAttr{Unshareflags: unix.CLONE_NEWPID})
	pid := cmd.Process.Pid
	testutil.WaitComm(t, pid, "sleep")
	// From Linux 7.1 the link opens before the namespace's init exists:
	// then both sources show it, and the namespace.
	opens := features.PidForChildrenBeforeInit()
	if _, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid_for_children", pid)); opens && err != nil || !opens && !errors.Is(err, unix.ENOENT) {
		t.Fatalf("pid_for_children of %d before its first child on Linux %s: %v; the kernel was seen answering ENOENT before 7.1 and opening it from 7.1", pid, features.Kernel().Release, err)
	}
	var unborn []nsKey
	// Both sources: the /proc walk once dropped such a process whole,
	// taking its ENOENT for an exit.
	for _, src := range []Source{BPF{}, Proc{}} {
		m := runSource(t, src)
		task := taskOf(m, pid, pid)
		if task == nil {
			t.Errorf("%s: pid %d not among %d tasks", src.Name(), pid, len(m.Tasks))
			continue
		}
		// Before 7.1 the /proc walk opens it through the pidfd ioctl (6.11).
		hidden := src.Name() == "proc" && !opens && !features.Has(features.PidfdNamespaces)
		for i, l := range namespaces.Links {
			if (task.NS[i] == nil) != (hidden && i == pidForChildren) {
				t.Errorf("%s: %s: %v (%s)", src.Name(), l.Name, task.NS[i], task.Missing[i])
			}
		}
		if hidden {
			if task.Missing[pidForChildren] != noInitWhy {
				t.Errorf("%s: pid_for_children missing because %q, want %q", src.Name(), task.Missing[pidForChildren], noInitWhy)
			}
			continue
		}
		p4c, pidNS := task.NS[pidForChildren], task.NS[pidLink]
		if p4c == nil || p4c == pidNS || p4c.Sources != model.FromChildren|model.FromUnborn || p4c.NProcs != 0 || p4c.Parent != pidNS {
			if p4c == nil {
				t.Errorf("%s: no pid_for_children; want a new pid namespace, child of %v", src.Name(), pidNS)
				continue
			}
			t.Errorf("%s: pid_for_children %v (sources %v, %d processes, parent %v); want a new pid namespace, child of %v, with sources for_children,unborn and no process", src.Name(), p4c, p4c.Sources, p4c.NProcs, p4c.Parent, pidNS)
			continue
		}
		unborn = append(unborn, keyOf(p4c))
	}
	if len(unborn) == 2 && unborn[0] != unborn[1] {
		t.Errorf("bpf and proc name the unborn namespace %v and %v", unborn[0], unborn[1])
	}
}

// A mount namespace's bind mounts are read through the next of its
// processes when the first cannot be read (exited, or refused as PID 1 is
// on some VMs).
func TestBPFMountsTryNextProcess(t *testing.T) {
	requireBPF(t)
	path := bindNetns(t)
	p := &Pass{reg: newRegistry()}
	defer p.reg.close()
	self, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		t.Fatal(err)
	}
	_, ino, _ := namespaces.ParseLink([]byte(self))
	mnt := p.reg.kernel(namespaces.NS{Type: namespaces.Mount, Ino: ino}, 0)
	gone := startSleeper(t, &syscall.SysProcAttr{})
	gone.Process.Kill()
	gone.Wait()
	b := &bpfPass{p: p, f: newFindings(), mntPIDs: map[*entry][]int{mnt: {gone.Process.Pid, os.Getpid()}}}
	b.mounts()
	if !slices.ContainsFunc(b.f.holds, func(h hold) bool { return h.mount != nil && h.mount.Path == path && h.mount.PID == os.Getpid() }) {
		t.Errorf("holds %+v; want the bind mount %s read through pid %d after %d failed", b.f.holds, path, os.Getpid(), gone.Process.Pid)
	}
}
