package bpfiter

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/bpfload"
	"github.com/nsinspect/nsinspect/features"
	"github.com/nsinspect/nsinspect/internal/linux"
	"github.com/nsinspect/nsinspect/internal/taskobj"
	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/namespaces"
)

// requireBPF loads the iterators, or stops the test where BPF cannot run
// (a failure under CI=true).
func requireBPF(t *testing.T) *Iterators {
	t.Helper()
	testutil.RequireRoot(t)
	it, err := Load()
	if errors.Is(err, ErrUnavailable) {
		testutil.Unavailable(t, err.Error(), "run as root on a kernel with BTF (CONFIG_DEBUG_INFO_BTF=y), Linux 5.8+")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { it.Close() })
	return it
}

func snapshot(t *testing.T, it *Iterators, files bool) *Snapshot {
	t.Helper()
	s, err := it.Snapshot(files)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func taskByTID(s *Snapshot, tid int) *Task {
	for i := range s.Tasks {
		if s.Tasks[i].TID == tid {
			return &s.Tasks[i]
		}
	}
	return nil
}

// tids lists /proc/self/task.
func tids(t *testing.T) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// iter/task sees this process as /proc does: its pid, comm, parent and
// the namespaces of /proc/self/ns, every one of its threads sharing its
// fd table, mm, signal handlers and signal struct, and the kernel
// threads, which have no mm.
func TestSnapshotSelf(t *testing.T) {
	testutil.CheckLeaks(t) // first, so that it checks after Close
	it := requireBPF(t)
	before := tids(t)
	s := snapshot(t, it, false)
	after := tids(t)
	self := os.Getpid()
	me := taskByTID(s, self)
	if me == nil {
		t.Fatalf("pid %d not among %d tasks", self, len(s.Tasks))
	}
	comm, _ := os.ReadFile("/proc/self/comm")
	if me.TGID != self || me.Comm != strings.TrimSpace(string(comm)) || me.PPID != os.Getppid() || me.Kernel() || me.EUID != uint32(os.Geteuid()) {
		t.Errorf("own task %+v; want tgid %d comm %q ppid %d euid %d, not a kernel thread", me, self, comm, os.Getppid(), os.Geteuid())
	}
	for i, l := range namespaces.Links {
		fd, err := unix.Open("/proc/self/ns/"+l.Name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOENT) {
			continue // a kernel without time namespaces
		}
		if err != nil {
			t.Fatal(err)
		}
		ns, err := namespaces.FromFD(fd)
		unix.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
		if got := me.NS[i]; got != (NSRef{Ino: ns.Ino, ID: ns.ID}) {
			t.Errorf("%s: iterator says %+v, /proc/self/ns says ino %d id %d", l.Name, got, ns.Ino, ns.ID)
		}
		if n := s.Namespaces[ns.Ino]; n == nil || n.Type != l.Type || n.ID != ns.ID {
			t.Errorf("%s: namespace record %+v, want type %s id %d", l.Name, n, l.Type.Name(), ns.ID)
		}
	}
	for _, tid := range before {
		if !slices.Contains(after, tid) {
			continue
		}
		th := taskByTID(s, tid)
		if th == nil {
			t.Errorf("thread %d not seen", tid)
			continue
		}
		for _, o := range []taskobj.Object{taskobj.Files, taskobj.FS, taskobj.MM, taskobj.Sighand, taskobj.Signal, taskobj.NSProxy} {
			if th.TGID != self || th.Obj[o] == 0 || th.Obj[o] != me.Obj[o] {
				t.Errorf("thread %d (tgid %d) %s id %d, leader's %d; want the same, non-zero", tid, th.TGID, o.Name(), th.Obj[o], me.Obj[o])
			}
		}
	}
	if b, err := os.ReadFile("/proc/2/comm"); err == nil && strings.TrimSpace(string(b)) == "kthreadd" {
		k := taskByTID(s, 2)
		if k == nil || !k.Kernel() || k.Comm != "kthreadd" || k.Obj[taskobj.MM] != 0 || k.Obj[taskobj.Files] == 0 {
			t.Errorf("kthreadd: %+v; want a kernel thread without mm", k)
		}
		// task_struct's state is __state from 5.14, state before: the
		// iterator reads either. kthreadd sleeps in kthreadd().
		if k != nil && k.State != 'S' {
			t.Errorf("kthreadd's state %q, want 'S' (task_struct's state read as %s)", k.State, stateField())
		}
	}
}

func stateField() string {
	if features.ReleaseAtLeast(5, 14) {
		return "__state"
	}
	return "state (before 5.14)"
}

// WalkFDs reads our fd table from kernel memory: an fd just opened on a
// temp file shows its inode and name, also past the first run of
// NSI_FDWALK_MAX (128) slots.
func TestWalkFDsSelf(t *testing.T) {
	testutil.CheckLeaks(t)
	requireBPF(t)
	path := filepath.Join(t.TempDir(), "walked-file")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	var high int
	for high < 200 {
		if high, err = unix.Dup(int(f.Fd())); err != nil {
			t.Fatal(err)
		}
		defer unix.Close(high)
	}
	w, err := WalkFDs(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range []int{int(f.Fd()), high} {
		i := slices.IndexFunc(w.FDs, func(x WalkFD) bool { return x.FD == fd })
		if i < 0 {
			t.Errorf("fd %d not in the walk (%d fds, max_fds %d)", fd, len(w.FDs), w.MaxFDs)
			continue
		}
		if got := w.FDs[i]; got.Ino != st.Ino || got.Name != "walked-file" || got.Mode != st.Mode {
			t.Errorf("fd %d: %+v; want inode %d mode %o name walked-file", fd, got, st.Ino, st.Mode)
		}
	}
	if _, err := WalkFDs(1 << 30); err == nil || errors.Is(err, ErrUnavailable) {
		t.Errorf("walk of no such process: %v; want an error saying so", err)
	}
}

// onThread runs setup on a parked thread of its own (testutil.OnThread)
// and fails the test if setup does.
func onThread(t *testing.T, setup func() error) int {
	t.Helper()
	tid, err := testutil.OnThread(t, setup)
	if err != nil {
		t.Fatalf("thread setup: %v", err)
	}
	return tid
}

// iter/task_file visits each fd table once: a thread that shares its
// leader's table is skipped, one with a table of its own is not.
func TestFilesOncePerTable(t *testing.T) {
	it := requireBPF(t)
	var own int
	tid := onThread(t, func() error {
		if err := unix.Unshare(unix.CLONE_FILES); err != nil {
			return err
		}
		var err error
		own, err = unix.Open("/proc/thread-self/ns/ipc", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		return err
	})
	shared, err := unix.Open("/proc/self/ns/uts", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(shared)
	s := snapshot(t, it, true)
	self := os.Getpid()
	var sharedBy, ownBy []int
	for _, fd := range s.FDs {
		switch {
		case fd.PID == self && fd.FD == shared && fd.Type == namespaces.UTS:
			sharedBy = append(sharedBy, fd.TID)
		case fd.PID == self && fd.FD == own && fd.Type == namespaces.IPC:
			ownBy = append(ownBy, fd.TID)
		}
	}
	if !slices.Equal(sharedBy, []int{self}) {
		t.Errorf("fd %d of the shared table seen through threads %v, want once, through the leader %d", shared, sharedBy, self)
	}
	if !slices.Equal(ownBy, []int{tid}) {
		t.Errorf("fd %d of thread %d's own table seen through threads %v, want once, through it", own, tid, ownBy)
	}
}

// A read(2) of an iterator fills a seq_file buffer of 8 pages; the task
// whose records do not fit is dropped from it and run again, with the
// same seq_num, at the next read. Namespaces that run marked as written
// must then be written again, or they are lost: with 250 processes in a
// uts namespace each, every task writes a new namespace and the output
// crosses two buffer boundaries or more, so every uts link must have its
// namespace record.
func TestRecordsSurviveSeqFileRetry(t *testing.T) {
	t.Cleanup(func() { testutil.NoChildren(t) })
	it := requireBPF(t)
	var pids []int
	for range 250 {
		cmd := testutil.Command(t, testutil.Held, "sleep", "1000")
		cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWUTS, Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		pids = append(pids, cmd.Process.Pid)
	}
	uts := slices.IndexFunc(namespaces.Links, func(l namespaces.Link) bool { return l.Name == "uts" })
	for range 3 {
		s := snapshot(t, it, false)
		for _, pid := range pids {
			task := taskByTID(s, pid)
			if task == nil {
				t.Fatalf("pid %d not seen", pid)
			}
			if ino := task.NS[uts].Ino; ino == 0 || s.Namespaces[ino] == nil {
				t.Errorf("pid %d: uts %d has no namespace record", pid, ino)
			}
		}
	}
}

// kcmpOf maps the objects kcmp(2) compares to Task.Obj.
var kcmpOf = []struct {
	typ linux.KcmpType
	obj taskobj.Object
}{
	{linux.KCMP_FILES, taskobj.Files}, {linux.KCMP_FS, taskobj.FS}, {linux.KCMP_VM, taskobj.MM},
	{linux.KCMP_SIGHAND, taskobj.Sighand}, {linux.KCMP_IO, taskobj.IO}, {linux.KCMP_SYSVSEM, taskobj.SysVSem},
}

// semUndo gives the calling thread a SysV undo list and an I/O context of
// its own: unshare(CLONE_NEWIPC) implies CLONE_SYSVSEM, which drops the
// list it shared, semop with SEM_UNDO on a set of the new IPC namespace
// allocates a new one, and ioprio_set allocates the io_context. The set
// goes with the namespace when the thread exits.
func semUndo() error {
	if err := unix.Unshare(unix.CLONE_NEWIPC); err != nil {
		return err
	}
	id, _, e := unix.Syscall(unix.SYS_SEMGET, 0 /* IPC_PRIVATE */, 1, 0o600)
	if e != 0 {
		return os.NewSyscallError("semget", e)
	}
	op := struct{ num, op, flg int16 }{0, 1, 0x1000 /* SEM_UNDO */}
	if _, _, e := unix.Syscall(unix.SYS_SEMOP, id, uintptr(unsafe.Pointer(&op)), 1); e != 0 {
		return os.NewSyscallError("semop", e)
	}
	const ioprioWhoProcess, ioprioClassBE = 1, 2
	if _, _, e := unix.Syscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, 0, ioprioClassBE<<13|4); e != 0 {
		return os.NewSyscallError("ioprio_set", e)
	}
	return nil
}

// kcmpAll runs kcmp on every pair of tids for every kcmpOf type: true
// where it answers "the same object". Pairs it cannot compare (a Go
// thread that exited) are left out.
func kcmpAll(tids []int) map[[3]int]bool {
	out := map[[3]int]bool{}
	for i, a := range tids {
		for _, b := range tids[i+1:] {
			for k, c := range kcmpOf {
				if r, err := linux.Kcmp(a, b, c.typ, 0, 0); err == nil {
					out[[3]int{a, b, k}] = r == 0
				}
			}
		}
	}
	return out
}

// Two tasks have equal object ids exactly when kcmp(2) says they point to
// the same object, for each object kcmp compares, among this process's
// threads (some with their own fd table, fs, SysV undo list and I/O
// context) and children made with and without CLONE_FS|CLONE_SYSVSEM|
// CLONE_IO. kcmp compares the pointers themselves, so two NULL io_context
// or undo_list pointers are "the same" to it; the ids are 0 for NULL, and
// 0 == 0 counts as the same here too, which is what makes the two agree.
func TestObjectIDsMatchKcmp(t *testing.T) {
	t.Cleanup(func() { testutil.NoChildren(t) }) // first, so that it runs after every reap
	it := requireBPF(t)
	onThread(t, func() error { return unix.Unshare(unix.CLONE_FILES) })
	onThread(t, func() error { return unix.Unshare(unix.CLONE_FS) })
	onThread(t, semUndo)
	onThread(t, func() error { return unix.Unshare(unix.CLONE_SYSVSEM) }) // a NULL undo list
	children := []int{}
	for _, flags := range []uintptr{0, unix.CLONE_FS | unix.CLONE_SYSVSEM | unix.CLONE_IO} {
		cmd := testutil.Command(t, testutil.Held, "sleep", "1000")
		cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: flags, Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		children = append(children, cmd.Process.Pid)
	}
	group := append(tids(t), children...)
	// A verdict that changed while we looked (a Go thread doing its first
	// I/O) is left out; the others held before and after the snapshot.
	before := kcmpAll(group)
	s := snapshot(t, it, false)
	after := kcmpAll(group)
	seen := map[[2]int]bool{} // kcmpOf index, verdict
	compared := 0
	for key, same := range before {
		if again, ok := after[key]; !ok || again != same {
			t.Logf("%v: kcmp changed during the test, left out", key)
			continue
		}
		a, b, c := taskByTID(s, key[0]), taskByTID(s, key[1]), kcmpOf[key[2]]
		if a == nil || b == nil {
			continue // a Go thread born after the snapshot
		}
		idSame := a.Obj[c.obj] == b.Obj[c.obj] // 0 == 0: both NULL, as kcmp sees it
		if idSame != same {
			t.Errorf("tasks %d and %d: %s ids %d and %d, but %s says same=%v", a.TID, b.TID, c.obj.Name(), a.Obj[c.obj], b.Obj[c.obj], c.typ, same)
		}
		compared++
		seen[[2]int{key[2], btoi(same)}] = true
	}
	// Every object must have been seen both shared and not, or the test
	// proved nothing about it.
	for k, c := range kcmpOf {
		if !seen[[2]int{k, 0}] || !seen[[2]int{k, 1}] {
			t.Errorf("%s: compared pairs were not both shared and unshared (shared %v, unshared %v)", c.typ, seen[[2]int{k, 1}], seen[[2]int{k, 0}])
		}
	}
	t.Logf("%d tasks, %d comparisons", len(group), compared)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// iter/task numbers tasks in the pid namespace of the process that reads
// it and visits only the tasks visible there: from a new pid namespace a
// reader sees itself as pid 1 with parent 0 (outside), and none of the
// host's tasks, kernel threads included.
func TestSnapshotReaderPidNS(t *testing.T) {
	requireBPF(t)
	out := runChild(t, "pidns", syscall.CLONE_NEWPID)
	if !strings.HasPrefix(out, "ok ") {
		t.Fatalf("child in a new pid namespace: %s", out)
	}
	t.Log(strings.TrimSpace(out))
}

// childPidNS is the reader of TestSnapshotReaderPidNS, run as pid 1 of a
// new pid namespace.
func childPidNS() int {
	it, err := Load()
	if err != nil {
		return fail("load: %v", err)
	}
	defer it.Close()
	s, err := it.Snapshot(true)
	if err != nil {
		return fail("snapshot: %v", err)
	}
	if os.Getpid() != 1 {
		return fail("child is pid %d, not 1 of a new pid namespace", os.Getpid())
	}
	for _, task := range s.Tasks {
		if task.TGID != 1 || task.Kernel() {
			return fail("task %+v seen from a pid namespace where only pid 1 lives", task)
		}
		if task.PPID != 0 {
			return fail("task %d: ppid %d; the parent is outside the namespace, want 0", task.TID, task.PPID)
		}
	}
	if taskByTID(s, 1) == nil {
		return fail("pid 1 (ourselves) not among %d tasks", len(s.Tasks))
	}
	fmt.Printf("ok %d tasks, all threads of pid 1\n", len(s.Tasks))
	return 0
}

// The child mode of this test binary: TestSnapshotReaderPidNS's reader.
const childEnv = "NSINSPECT_BPFITER_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "":
		os.Exit(m.Run())
	case "pidns":
		os.Exit(childPidNS())
	}
	os.Exit(2)
}

// runChild runs this test binary in child mode with extra clone flags and
// returns its output, failing the test if the child could not run.
func runChild(t *testing.T, mode string, cloneflags uintptr) string {
	t.Helper()
	cmd := testutil.Command(t, testutil.Quick, os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"="+mode)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: cloneflags, Pdeathsig: syscall.SIGKILL}
	out, err := testutil.Output(cmd)
	if err != nil {
		t.Fatalf("child %s: %v\n%s", mode, err, out)
	}
	return out
}

func fail(format string, a ...any) int {
	fmt.Printf("FAIL: "+format+"\n", a...)
	return 1
}

// TestVerifierWork bounds the instructions the verifier walks for each
// iterator program, the larger part of a one-shot load's cost: on 6.18
// nsi_tasks took 34,708 and nsi_files 28,545 while the climbs looped
// around each level's work (about 35 ms), 2,953 and 1,800 once each level
// became a call of a global function (about 5 ms); nsi_fdwalk 32,784
// with its slot reads inside the loop, 2,873 as global functions.
func TestVerifierWork(t *testing.T) {
	requireBPF(t)
	restore, err := bpfload.RaiseMemlock()
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	cache := btf.NewCache()
	kernel, err := cache.Kernel()
	if err != nil {
		t.Fatal(err)
	}
	opts := ebpf.CollectionOptions{Cache: cache, Programs: ebpf.ProgramOptions{KernelTypes: kernel}}
	for name, load := range map[string]func() (*ebpf.CollectionSpec, error){"tasks": loadTasks, "fdwalk": loadFdwalk} {
		t.Run(name, func(t *testing.T) {
			spec, err := load()
			if err != nil {
				t.Fatal(err)
			}
			testutil.CheckVerifierWork(t, spec, opts, 8000)
		})
	}
}
