package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/features"
	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/internal/linux"
	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/namespaces"
)

// The io_uring helper is this test binary re-executed with iouHelperEnv
// set: it makes an io_uring with an SQPOLL thread and runs one request
// through an io-wq worker, says "ready" on stderr (its stdout is trace's
// event stream) and waits for stdin to close.
const iouHelperEnv = "NSINSPECT_IT_IOURING_HELPER"

func init() {
	if os.Getenv(iouHelperEnv) == "1" {
		os.Exit(iouringHelper())
	}
}

// io_uring's ABI (include/uapi/linux/io_uring.h).
const (
	ioringSetupSQPoll   = 1 << 1
	ioringOffSQEs       = 0x10000000
	ioringEnterGetEvts  = 1 << 0
	ioringEnterSQWakeup = 1 << 1
	iosqeAsync          = 1 << 4 // IOSQE_ASYNC: run the request in an io-wq worker
	ioprioClassBE       = 2
	ioprioWhoProcess    = 1
)

type ioSQRingOffsets struct {
	Head, Tail, RingMask, RingEntries, Flags, Dropped, Array, Resv1 uint32
	UserAddr                                                        uint64
}

type ioUringParams struct {
	SQEntries, CQEntries, Flags, SQThreadCPU, SQThreadIdle, Features, WQFd uint32
	Resv                                                                   [3]uint32
	SQOff                                                                  ioSQRingOffsets
	CQOff                                                                  [5]uint64
}

type ioUringSQE struct {
	Opcode, Flags uint8
	IOPrio        uint16
	FD            int32
	Off, Addr     uint64
	Len, OpFlags  uint32
	UserData      uint64
	Pad           [3]uint64
}

func iouringHelper() int {
	fail := func(what string, err error) int {
		fmt.Fprintf(os.Stderr, "io_uring helper: %s: %v\n", what, err)
		return 1
	}
	// One thread makes the io_context (ioprio_set allocates it) and the
	// ring, so that the SQPOLL thread's CLONE_IO shares an io_context
	// that exists: the io row is then decidable.
	runtime.LockOSThread()
	if _, _, e := unix.Syscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, 0, ioprioClassBE<<13|4); e != 0 {
		return fail("ioprio_set", e)
	}
	p := ioUringParams{Flags: ioringSetupSQPoll, SQThreadIdle: 10000}
	fd, _, e := unix.Syscall(unix.SYS_IO_URING_SETUP, 4, uintptr(unsafe.Pointer(&p)), 0)
	if e != 0 {
		return fail("io_uring_setup(SQPOLL)", e)
	}
	ring, err := unix.Mmap(int(fd), 0, int(p.SQOff.Array+p.SQEntries*4), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return fail("mmap of the SQ ring", err)
	}
	sqes, err := unix.Mmap(int(fd), ioringOffSQEs, int(p.SQEntries)*int(unsafe.Sizeof(ioUringSQE{})), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return fail("mmap of the SQEs", err)
	}
	// A NOP with IOSQE_ASYNC: the SQPOLL thread hands it to io-wq, which
	// makes a worker for it.
	*(*ioUringSQE)(unsafe.Pointer(&sqes[0])) = ioUringSQE{Opcode: 0, Flags: iosqeAsync, UserData: 1}
	tail := (*uint32)(unsafe.Pointer(&ring[p.SQOff.Tail]))
	mask := *(*uint32)(unsafe.Pointer(&ring[p.SQOff.RingMask]))
	t := atomic.LoadUint32(tail)
	*(*uint32)(unsafe.Pointer(&ring[p.SQOff.Array+4*(t&mask)])) = 0
	atomic.StoreUint32(tail, t+1)
	// A signal (the Go runtime's preemption, SIGURG) ends the wait with
	// EINTR; the completion is not consumed, so waiting again returns
	// once it is there (seen on 7.3 arm64 under QEMU).
	for {
		_, _, e := unix.Syscall6(unix.SYS_IO_URING_ENTER, fd, 0, 1, ioringEnterGetEvts|ioringEnterSQWakeup, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return fail("io_uring_enter(GETEVENTS)", e)
		}
		break
	}
	fmt.Fprintf(os.Stderr, "ready %d\n", unix.Gettid())
	bufio.NewReader(os.Stdin).ReadString('\n')
	return 0
}

// threadStates says what each thread of process pid is doing: comm,
// state, wchan and kernel stack, or that the process is gone.
func threadStates(pid int) string {
	dirs, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
	if len(dirs) == 0 {
		return fmt.Sprintf("process %d is gone (no /proc/%d/task)", pid, pid)
	}
	var b strings.Builder
	for _, d := range dirs {
		comm, _ := os.ReadFile(d + "/comm")
		stat, _ := os.ReadFile(d + "/stat")
		state := "?"
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+3 <= len(stat) {
			state = string(stat[i+2 : i+3])
		}
		wchan, _ := os.ReadFile(d + "/wchan")
		stack, _ := os.ReadFile(d + "/stack")
		fmt.Fprintf(&b, "\n  thread %s %s state %s wchan %s stack: %s", filepath.Base(d), strings.TrimSpace(string(comm)), state, wchan,
			strings.Join(strings.Fields(string(stack)), " "))
	}
	return b.String()
}

// ioThreads lists the io_uring threads of process pid (comm iou-*) with
// their task->flags from /proc/PID/task/TID/stat.
func ioThreads(t *testing.T, pid int) map[int]uint64 {
	t.Helper()
	out := map[int]uint64{}
	dirs, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
	for _, d := range dirs {
		comm, err := os.ReadFile(d + "/comm")
		if err != nil || !strings.HasPrefix(string(comm), "iou-") {
			continue
		}
		stat, err := os.ReadFile(d + "/stat")
		if err != nil {
			continue
		}
		// Field 9 (flags) counts from the one after "(comm)".
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		flags, err := strconv.ParseUint(f[6], 10, 64)
		if err != nil {
			t.Fatalf("%s/stat: %q", d, stat)
		}
		tid, _ := strconv.Atoi(filepath.Base(d))
		out[tid] = flags
	}
	return out
}

// ioWorkerFlags are the clone flags of create_io_thread() (kernel/fork.c,
// since 5.12): CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_IO,
// and CLONE_VM|CLONE_UNTRACED added as for every kernel-made thread.
var ioWorkerFlags = []string{"CLONE_VM", "CLONE_FS", "CLONE_FILES", "CLONE_SIGHAND", "CLONE_THREAD", "CLONE_IO", "CLONE_UNTRACED"}

// An io_uring's SQPOLL thread (iou-sqp-PID) and io-wq worker (iou-wrk-PID)
// are fork events of kind io_worker, in the caller's thread group, made
// with create_io_thread()'s flags, and sharing every namespace and files,
// fs, mm, sighand, signal, io, nsproxy and cred, but not the SysV undo
// list. Each thread's kind is checked against PF_IO_WORKER in its
// /proc/PID/task/TID/stat, and each object verdict against kcmp(2). Before
// 5.12 (but not on Debian's 5.10.223) io_uring's threads were kernel threads
// (kthreadd's children): trace sees none of them.
func TestTraceIOUringWorkers(t *testing.T) {
	requireTracer(t)
	if v, _ := os.ReadFile("/proc/sys/kernel/io_uring_disabled"); strings.TrimSpace(string(v)) == "2" {
		testutil.Unavailable(t, "io_uring is disabled (kernel.io_uring_disabled=2)", "sysctl kernel.io_uring_disabled=0")
	}
	cmd := testutil.Command(t, testutil.Quick, binary, "trace", "--json", "--", os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), iouHelperEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	errs := bufio.NewReader(stderr)
	line, err := errs.ReadString('\n')
	var tid int
	if _, e := fmt.Sscanf(line, "ready %d", &tid); e != nil {
		rest, _ := errs.ReadString(0)
		t.Fatalf("the io_uring helper did not start: %v: %s%s", err, line, rest)
	}
	// The rest of stderr: trace's notices (an exit it did not see).
	var rest strings.Builder
	restDone := make(chan struct{})
	go func() {
		b, _ := io.ReadAll(errs)
		rest.Write(b)
		close(restDone)
	}()
	pid := 0
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", tid)); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "Tgid:"); ok {
				pid, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
	}
	live := ioThreads(t, pid)
	sc := bufio.NewScanner(stdout)
	sc.Buffer(nil, 1<<20)
	var all bytes.Buffer
	seen := map[int]*inspect.TraceEvent{}
	// Whether io_uring's threads are the caller's (PF_IO_WORKER threads of
	// its group) or kernel threads is the kernel's: the former from 5.12,
	// and on Debian's 5.10.223 (the 5.10 stable series took 5.15's
	// io_uring).
	newer := len(live) > 0
	if !newer && features.ReleaseAtLeast(5, 12) {
		t.Fatalf("Linux %s: the helper (pid %d) has no iou- thread", features.Kernel().Release, pid)
	}
	if !newer {
		// Nothing to wait for: let the helper exit, and read to the end.
		stdin.Close()
	}
	// Read until every io thread alive now has its event (without any,
	// to the end).
	for (!newer || len(seen) < len(live)) && sc.Scan() {
		all.Write(sc.Bytes())
		all.WriteByte('\n')
		e := &inspect.TraceEvent{}
		if err := json.Unmarshal(sc.Bytes(), e); err != nil {
			t.Fatal(err)
		}
		if e.Event == "fork" && e.Child != nil && e.Child.Kind == "io_worker" {
			seen[e.Child.TID] = e
		}
		if e.Event == "end" {
			break
		}
	}
	if !newer {
		if len(seen) != 0 {
			t.Errorf("io_uring's threads are kernel threads here (the helper has no iou- thread), but trace saw %d io_worker forks", len(seen))
		}
		return
	}
	for wtid, pf := range live {
		e := seen[wtid]
		if e == nil {
			t.Errorf("no fork event of io thread %d:\n%s", wtid, all.String())
			continue
		}
		if pf&0x10 == 0 {
			t.Errorf("io thread %d: trace says io_worker, its stat flags %#x lack PF_IO_WORKER", wtid, pf)
		}
		checkIOWorker(t, e, pid, tid)
	}
	stdin.Close()
	// Should trace not end, what the helper's threads were doing 20 s
	// after their stdin closed says whether they were still exiting.
	diag := make(chan string, 1)
	timer := time.AfterFunc(20*time.Second, func() { diag <- threadStates(pid) })
	defer timer.Stop()
	for sc.Scan() {
		all.Write(sc.Bytes())
		all.WriteByte('\n')
	}
	if err := cmd.Wait(); err != nil {
		select {
		case d := <-diag:
			t.Fatalf("trace: %v; 20 s after the helper's stdin closed: %s; events:\n%s", err, d, all.String())
		default:
			t.Fatalf("trace: %v", err)
		}
	}
	<-restDone
	if n := strings.TrimSpace(rest.String()); n != "" {
		t.Logf("trace's stderr: %s", n)
	}
	for _, e := range traceEvents(t, all.String()) {
		if e.Event == "fork" && e.Child != nil && e.Child.Kind == "io_worker" && seen[e.Child.TID] == nil {
			checkIOWorker(t, e, pid, 0) // one that exited before the test looked
		}
	}
	checkContract(t, cmd.Args, all.String())
}

// checkIOWorker checks one io_worker fork event of process pid; with
// ringTID (the thread that made the ring) and the worker alive, its
// verdicts are checked with kcmp(2) and /proc too.
func checkIOWorker(t *testing.T, e *inspect.TraceEvent, pid, ringTID int) {
	t.Helper()
	if e.Caller.PID != pid || e.Child.PID != pid {
		t.Errorf("io worker fork: caller %d, child %d, want both in the helper %d", e.Caller.PID, e.Child.PID, pid)
	}
	got := slices.Clone(e.Flags)
	slices.Sort(got)
	want := slices.Clone(ioWorkerFlags)
	slices.Sort(want)
	if !slices.Equal(got, want) || e.ExitSignal != "" {
		t.Errorf("io worker %d: flags %v exit signal %q, want create_io_thread's %v and none", e.Child.TID, e.Flags, e.ExitSignal, ioWorkerFlags)
	}
	for _, s := range e.Sharing {
		want := "same"
		if s.Name == "sysvsem" {
			// No CLONE_SYSVSEM: the worker has none.
			if s.B != nil {
				t.Errorf("io worker %d has a SysV undo list: %+v", e.Child.TID, s)
			}
			continue
		}
		if s.Verdict != want {
			t.Errorf("io worker %d: %s %s, want %s", e.Child.TID, s.Name, s.Verdict, want)
		}
	}
	if ringTID == 0 || e.Caller.TID != ringTID {
		return
	}
	kcmp := map[string]linux.KcmpType{"files": linux.KCMP_FILES, "fs": linux.KCMP_FS, "mm": linux.KCMP_VM,
		"sighand": linux.KCMP_SIGHAND, "io": linux.KCMP_IO}
	for name, typ := range kcmp {
		got, err := linux.Kcmp(ringTID, e.Child.TID, typ, 0, 0)
		if err != nil {
			t.Errorf("kcmp %d %d %v: %v", ringTID, e.Child.TID, typ, err)
			continue
		}
		if v := row(t, e, name).Verdict; (got == 0) != (v == "same") {
			t.Errorf("io worker %d: %s %s, but %v says %d", e.Child.TID, name, v, typ, got)
		}
	}
	for _, l := range namespaces.Links {
		r := row(t, e, l.Name)
		live := nsIno(t, fmt.Sprintf("%d/task/%d", pid, e.Child.TID), l.Name)
		if live != 0 && (r.B == nil || r.B.Ino != live) {
			t.Errorf("io worker %d %s: trace says %+v, /proc says %d", e.Child.TID, l.Name, r.B, live)
		}
	}
}

// thpEnabled is the switch whose writes start and stop khugepaged
// (mm/khugepaged.c start_stop_khugepaged(): kthread_run when THP goes from
// never to madvise or always, kthread_stop back).
const thpEnabled = "/sys/kernel/mm/transparent_hugepage/enabled"

// kthreadOf reports whether tid is a kernel thread called comm, by its
// /proc comm and the PF_KTHREAD bit of its stat flags.
func kthreadOf(tid int, comm string) bool {
	c, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", tid))
	if err != nil || strings.TrimSpace(string(c)) != comm {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", tid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	flags, _ := strconv.ParseUint(f[6], 10, 64)
	return flags&0x00200000 != 0
}

// running lists the tasks called comm.
func running(comm string) []int {
	var out []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		if c, err := os.ReadFile(d + "/comm"); err == nil && strings.TrimSpace(string(c)) == comm {
			n, _ := strconv.Atoi(filepath.Base(d))
			out = append(out, n)
		}
	}
	return out
}

// watch sees kthreadd's children as kind kthread: khugepaged, which the
// kernel starts when transparent huge pages are switched on and stops when
// they are switched off, is a fork event of kthreadd (PID 2) whose caller
// and child are kthreads with no mm, and whose child is the khugepaged
// that /proc then shows with PF_KTHREAD. The switch is put back at the
// end.
func TestWatchKthread(t *testing.T) {
	requireTracer(t)
	b, err := os.ReadFile(thpEnabled)
	if err != nil {
		testutil.Unavailable(t, "no transparent huge pages: "+err.Error(), "a kernel with CONFIG_TRANSPARENT_HUGEPAGE=y")
	}
	s := string(b)
	orig := s[strings.IndexByte(s, '[')+1 : strings.IndexByte(s, ']')]
	on := orig
	if on == "never" {
		on = "madvise"
	}
	set := func(v string) {
		if err := os.WriteFile(thpEnabled, []byte(v), 0); err != nil {
			t.Fatalf("writing %s to %s: %v", v, thpEnabled, err)
		}
	}
	t.Cleanup(func() { os.WriteFile(thpEnabled, []byte(orig), 0) })
	set("never")
	// kthread_stop() returns when the thread has exited, before it is
	// released: its /proc entry may outlive the write a little.
	for i := 0; i < 100 && len(running("khugepaged")) != 0; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if k := running("khugepaged"); len(k) != 0 {
		testutil.Unavailable(t, fmt.Sprintf("khugepaged %v still runs with THP never (a per-size or shmem setting keeps it)", k),
			"set /sys/kernel/mm/transparent_hugepage/hugepages-*/enabled and shmem_enabled to never or inherit")
	}
	cmd := testutil.Command(t, testutil.Quick, binary, "watch", "--json", "--pid", "2")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan []byte, 64)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines <- slices.Clone(sc.Bytes())
		}
		close(lines)
	}()
	var all bytes.Buffer
	var found *inspect.TraceEvent
	var forks []*inspect.TraceEvent
	check := func(l []byte) {
		all.Write(l)
		all.WriteByte('\n')
		e := &inspect.TraceEvent{}
		if err := json.Unmarshal(l, e); err != nil {
			t.Fatal(err)
		}
		if e.Event != "fork" || e.Caller.PID != 2 {
			return
		}
		if e.Caller.Kind != "kthread" || e.Child.Kind != "kthread" {
			t.Errorf("kthreadd's fork: caller %s, child %s, want kthread both", e.Caller.Kind, e.Child.Kind)
		}
		if mm := row(t, e, "mm"); mm.Verdict != "neither" {
			t.Errorf("kthreadd's fork: mm %s, want neither", mm.Verdict)
		}
		forks = append(forks, e)
	}
	// watch misses what happens before its programs are attached: switch
	// until it has seen a khugepaged start. A child's comm may be set just
	// after the event (before 6.x kthread_create names it once kthreadd
	// has made it): the candidates are looked at again after each round.
	for i := 0; i < 100 && found == nil; i++ {
		set("never")
		set(on)
		round := time.After(200 * time.Millisecond)
	drain:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("watch ended: %s\n%s", stderr.String(), all.String())
				}
				check(l)
			case <-round:
				break drain
			}
		}
		for _, e := range forks {
			if kthreadOf(e.Child.TID, "khugepaged") {
				found = e
			}
		}
	}
	cmd.Process.Signal(unix.SIGTERM)
	for l := range lines {
		check(l)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("watch: %v: %s", err, stderr.String())
	}
	if found == nil {
		t.Fatalf("no kthreadd fork of khugepaged seen:\n%s", all.String())
	}
	checkContract(t, cmd.Args, all.String())
}
