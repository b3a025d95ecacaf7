package testutil

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// recorder is a testing.TB whose cleanups and errors are kept for the test
// to run and read, so that a check meant to fail can be seen failing. What
// it does not record goes to the real test.
type recorder struct {
	testing.TB
	cleanups []func()
	errors   []string
}

func (r *recorder) Helper()           {}
func (r *recorder) Cleanup(fn func()) { r.cleanups = append(r.cleanups, fn) }
func (r *recorder) Errorf(format string, a ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, a...))
}

// cleanup runs the recorded cleanups, last in first out, as testing does,
// and returns the errors they reported.
func (r *recorder) cleanup() string {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	r.cleanups = nil
	return strings.Join(r.errors, "\n")
}

// checked runs body between the leak check on a recorder and its cleanup,
// and returns what the check reported. Leaks are meant to be found here, so
// it waits less than CheckLeaks for them to go.
func checked(t *testing.T, body func(t *testing.T)) string {
	t.Helper()
	r := &recorder{TB: t}
	checkLeaks(r, 500*time.Millisecond)
	t.Run("body", body)
	return r.cleanup()
}

// The checker is itself checked, so that a test using it starts from a
// process with nothing left over.
func TestCheckLeaksClean(t *testing.T) {
	CheckLeaks(t)
	got := checked(t, func(t *testing.T) {
		f, err := os.Open("/dev/null")
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		done := make(chan struct{})
		go func() { close(done) }()
		<-done
		MustRun(t, Command(t, Quick, "true"))
	})
	if got != "" {
		t.Errorf("a test that leaks nothing was reported: %s", got)
	}
}

func TestCheckLeaksFD(t *testing.T) {
	CheckLeaks(t)
	var pipe [2]int
	got := checked(t, func(t *testing.T) {
		if err := unix.Pipe2(pipe[:], unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
	})
	unix.Close(pipe[0])
	unix.Close(pipe[1])
	for _, want := range []string{fmt.Sprintf("fd %d (pipe:[", pipe[0]), fmt.Sprintf("fd %d (pipe:[", pipe[1])} {
		if !strings.Contains(got, want) {
			t.Errorf("leaked pipe %v not reported as %q: %q", pipe, want, got)
		}
	}
}

// An fd of the same number but another file is a leak: the one open
// before was closed and something else took its number.
func TestCheckLeaksReusedNumber(t *testing.T) {
	CheckLeaks(t)
	fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := checked(t, func(t *testing.T) {
		unix.Close(fd)
		again, err := unix.Open("/proc/self/stat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil || again != fd {
			t.Fatalf("reopen gave fd %d, %v; want %d", again, err, fd)
		}
	})
	unix.Close(fd)
	if want := fmt.Sprintf("fd %d (/proc/", fd); !strings.Contains(got, want) {
		t.Errorf("fd %d reused for another file not reported as %q: %q", fd, want, got)
	}
}

// A pre-existing fd closed during the test is not a leak.
func TestCheckLeaksClosedBefore(t *testing.T) {
	CheckLeaks(t)
	fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := checked(t, func(*testing.T) { unix.Close(fd) }); got != "" {
		t.Errorf("closing an fd was reported: %s", got)
	}
}

func TestCheckLeaksGoroutine(t *testing.T) {
	CheckLeaks(t)
	stop := make(chan struct{})
	got := checked(t, func(*testing.T) { go parked(stop) })
	close(stop)
	if !strings.Contains(got, "1 goroutines") || !strings.Contains(got, "testutil.parked") {
		t.Errorf("parked goroutine not reported: %q", got)
	}
}

func parked(stop chan struct{}) { <-stop }

// What a test's cleanups set going, and what ends on its own shortly
// after, is given time to end: goroutines that exit, an fd a goroutine
// closes.
func TestCheckLeaksSettles(t *testing.T) {
	CheckLeaks(t)
	r := &recorder{TB: t}
	CheckLeaks(r)
	t.Run("body", func(t *testing.T) {
		stop := make(chan struct{})
		t.Cleanup(func() { close(stop) })
		for range 3 {
			go func() {
				<-stop
				time.Sleep(200 * time.Millisecond)
			}()
		}
		fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		go func() { time.Sleep(300 * time.Millisecond); unix.Close(fd) }()
	})
	if got := r.cleanup(); got != "" {
		t.Errorf("what ended within the settle time was reported: %s", got)
	}
}

// leakChildEnv marks the copy of this test binary in which
// TestCheckLeaksFreshProcess runs as the first test of a fresh process,
// before anything has started the runtime's netpoller.
const leakChildEnv = "NSINSPECT_LEAKCHECK_CHILD"

// The first test of a fresh process: what the runtime and the testing
// package open lazily and keep around it (the netpoller's epoll fd and
// eventfd, if nothing has started it yet) is not the test's leak.
func TestCheckLeaksFreshProcess(t *testing.T) {
	if os.Getenv(leakChildEnv) == "1" {
		r := &recorder{TB: t}
		checkLeaks(r, 0)
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		pr.Close()
		pw.Close()
		if got := r.cleanup(); got != "" {
			t.Errorf("the runtime's own fds were reported: %s", got)
		}
		return
	}
	cmd := Command(t, Quick, os.Args[0], "-test.run=^TestCheckLeaksFreshProcess$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), leakChildEnv+"=1")
	out, err := Output(cmd)
	if err != nil || !strings.Contains(out, "--- PASS: TestCheckLeaksFreshProcess") {
		t.Fatalf("in a fresh process: %v\n%s", err, out)
	}
}
