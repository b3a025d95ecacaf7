package sharing

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/linux"
	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/procinfo"
)

// lockedThread runs fn on an OS thread of the test process other than the
// leader and keeps that thread parked until the test ends. The goroutine
// never unlocks, so the thread dies with it instead of going back to Go's
// pool with an io_context it would not otherwise have.
func lockedThread(t *testing.T, fn func(tid int) error) *procinfo.Proc {
	t.Helper()
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	for {
		ready, failed := make(chan int), make(chan error)
		go func() {
			runtime.LockOSThread()
			tid := unix.Gettid()
			if fn != nil && tid != os.Getpid() {
				if err := fn(tid); err != nil {
					failed <- err
					return
				}
			}
			ready <- tid
			<-done
		}()
		var tid int
		select {
		case tid = <-ready:
		case err := <-failed:
			t.Fatal(err)
		}
		// A goroutine may land on the main thread (tid == pid); it stays
		// parked there, so the next one cannot.
		if tid != os.Getpid() {
			p, err := procinfo.OpenTask(os.Getpid(), tid)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { p.Close() })
			return p
		}
	}
}

// ioprioSet gives task tid an io_context (ioprio_set(2) allocates one):
// best-effort class, level 4, which is what a nice-0 task gets anyway.
func ioprioSet(tid int) error {
	const whoProcess, classBE = 1, 2
	if _, _, e := unix.Syscall(unix.SYS_IOPRIO_SET, whoProcess, uintptr(tid), classBE<<13|4); e != 0 {
		return os.NewSyscallError("ioprio_set "+strconv.Itoa(tid), e)
	}
	return nil
}

var threadSharing = map[string]string{"files": "shared", "fs": "shared", "vm": "shared", "sighand": "shared"}

func TestCompareSelf(t *testing.T) {
	testutil.CheckLeaks(t)
	testutil.RequireRoot(t)
	me := self(t)
	r := mustCompare(t, me, me)
	for _, res := range r.Resources {
		if res.Verdict() != "shared" {
			t.Errorf("%s: a task vs itself: %s (%s; %s)", res.Name, res.Verdict(), res.Evidence, res.Note)
		}
	}
	if len(r.FDs) == 0 {
		t.Fatal("no fds compared")
	}
	for _, fd := range r.FDs {
		if fd.Shared == nil || !*fd.Shared || fd.A != fd.B {
			t.Errorf("fd %d vs itself: %+v", fd.FD, fd)
		}
	}
}

// Go makes its threads with CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|
// CLONE_SYSVSEM|CLONE_THREAD, so a thread shares all of those with the
// leader, and the undo list is non-NULL (CLONE_SYSVSEM allocates it), so
// the sysvsem verdict is decidable.
func TestCompareThread(t *testing.T) {
	testutil.CheckLeaks(t)
	testutil.RequireRoot(t)
	me := self(t)
	th := lockedThread(t, nil)
	r := mustCompare(t, me, th)
	if r.B.TID != th.TID || r.B.PID != me.PID {
		t.Fatalf("report names %+v, want pid %d thread %d", r.B, me.PID, th.TID)
	}
	wantVerdicts(t, r, threadSharing)
	wantVerdicts(t, r, map[string]string{"sysvsem": "shared", "net": "shared", "mnt": "shared"})
	if res, _ := r.Resource("sysvsem"); res.Evidence.ANull == nil || *res.Evidence.ANull {
		t.Errorf("sysvsem of a Go process should be non-NULL: %+v", res.Evidence)
	}
}

// Two unrelated processes share no kernel object. docs/kernel-notes.md says that
// KCMP_IO and KCMP_SYSVSEM still answer 0 for two fresh sleeps (both
// pointers NULL): pin that, and that Compare calls it indeterminate.
func TestCompareUnrelated(t *testing.T) {
	testutil.CheckLeaks(t)
	a, b := startSleep(t, 0), startSleep(t, 0)
	for _, typ := range []linux.KcmpType{linux.KCMP_IO, linux.KCMP_SYSVSEM} {
		res, err := linux.Kcmp(a.PID, b.PID, typ, 0, 0)
		if err != nil || res != 0 {
			t.Errorf("kcmp(%s) of two fresh sleeps: %d, %v; docs/kernel-notes.md says 0", typ, res, err)
		}
	}
	r := mustCompare(t, a, b)
	wantVerdicts(t, r, map[string]string{
		"files": "separate", "fs": "separate", "vm": "separate", "sighand": "separate",
		"io": "indeterminate", "sysvsem": "indeterminate", "net": "shared",
	})
	for _, name := range []string{"io", "sysvsem"} {
		res, _ := r.Resource(name)
		ev := res.Evidence
		if ev.ANull == nil || !*ev.ANull || ev.BNull == nil || !*ev.BNull || ev.NullRef != kthreaddPID {
			t.Errorf("%s: want both NULL against kthreadd: %+v", name, ev)
		}
	}

	// Once both have an io_context, kcmp can tell them apart.
	if err := ioprioSet(a.PID); err != nil {
		t.Fatal(err)
	}
	r = mustCompare(t, a, b)
	wantVerdicts(t, r, map[string]string{"io": "separate"})
	if err := ioprioSet(b.PID); err != nil {
		t.Fatal(err)
	}
	r = mustCompare(t, a, b)
	wantVerdicts(t, r, map[string]string{"io": "separate"})
}

// CLONE_IO from a thread that has an io_context makes the child share it,
// and the sharing survives exec.
func TestCompareIOShared(t *testing.T) {
	testutil.CheckLeaks(t)
	testutil.RequireRoot(t)
	var (
		cmd   *exec.Cmd
		child *procinfo.Proc
	)
	th := lockedThread(t, func(tid int) (err error) {
		if err := ioprioSet(tid); err != nil {
			return err
		}
		// os/exec forks from the calling thread: this locked one.
		cmd, child, err = spawnSleep(t, unix.CLONE_IO)
		return err
	})
	t.Cleanup(func() { reap(cmd, child) })
	r := mustCompare(t, th, child)
	wantVerdicts(t, r, map[string]string{"io": "shared", "files": "separate"})
	other := startSleep(t, 0)
	r = mustCompare(t, other, child)
	wantVerdicts(t, r, map[string]string{"io": "separate"})
}

// A Go process has an undo list; a child made with CLONE_SYSVSEM shares it
// across exec, one made without it has none.
func TestCompareSysvsem(t *testing.T) {
	testutil.CheckLeaks(t)
	me := self(t)
	shared := startSleep(t, unix.CLONE_SYSVSEM)
	plain := startSleep(t, 0)
	wantVerdicts(t, mustCompare(t, me, shared), map[string]string{"sysvsem": "shared", "vm": "separate"})
	wantVerdicts(t, mustCompare(t, me, plain), map[string]string{"sysvsem": "separate"})
	wantVerdicts(t, mustCompare(t, shared, plain), map[string]string{"sysvsem": "separate"})
}

// KCMP_FILE: an inherited fd is the same open file description in both
// children, a second open(2) of the same file is not, and each child's
// stdin (/dev/null, opened by os/exec per child) is not either.
func TestCompareFDs(t *testing.T) {
	testutil.CheckLeaks(t)
	path := t.TempDir() + "/f"
	f1, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f1.Close()
	f2, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	// fd 3 = f1 in both; fd 4 = f1 in a, f2 in b; fd 5 = f1 in a, nothing in b.
	a := startSleep(t, 0, f1, f1, f1)
	b := startSleep(t, 0, f1, f2)
	r := mustCompare(t, a, b)
	got := map[int]FDPair{}
	for _, p := range r.FDs {
		got[p.FD] = p
	}
	want := map[int]bool{0: false, 3: true, 4: false}
	for fd, same := range want {
		p, ok := got[fd]
		switch {
		case !ok:
			t.Errorf("fd %d missing from %+v", fd, r.FDs)
		case p.Shared == nil || *p.Shared != same:
			t.Errorf("fd %d: got %+v, want shared=%t", fd, p, same)
		}
	}
	if p := got[3]; p.A != path || p.B != path {
		t.Errorf("fd 3 targets %q, %q, want %q", p.A, p.B, path)
	}
	if p := got[0]; p.A != "/dev/null" || p.B != "/dev/null" {
		t.Errorf("fd 0 targets %q, %q, want /dev/null", p.A, p.B)
	}
	if _, ok := got[5]; ok {
		t.Errorf("fd 5 is open only in a but was compared: %+v", got[5])
	}
}

// A task that exits before Compare gives an error naming it, never a
// report.
func TestCompareGone(t *testing.T) {
	testutil.CheckLeaks(t)
	me := self(t)
	child := startSleep(t, 0)
	if err := unix.Kill(child.PID, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Reap through a wait on the pid: the pin must notice the exit even
	// when the number is free for reuse.
	var ws unix.WaitStatus
	if _, err := unix.Wait4(child.PID, &ws, 0, nil); err != nil {
		t.Fatal(err)
	}
	r, err := Compare(me, child)
	if !errors.Is(err, procinfo.ErrProcessGone) || r != nil {
		t.Fatalf("got %v, %v; want ErrProcessGone and no report", r, err)
	}
	if want := "pid " + strconv.Itoa(child.PID); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name %s", err, want)
	}
}
