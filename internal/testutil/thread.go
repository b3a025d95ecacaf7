package testutil

import (
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ThreadUnshare makes one thread of the test process, never its leader
// (whose /proc/PID/ns links are the process's), call unshare(flags), and
// returns its tid (see OnThread).
func ThreadUnshare(t testing.TB, flags int) int {
	t.Helper()
	tid, err := OnThread(t, func() error { return unix.Unshare(flags) })
	if err != nil {
		t.Fatalf("unshare(%#x) on a thread: %v", flags, err)
	}
	return tid
}

// OnThread runs fn on one thread of the test process, never its leader,
// and returns the thread's tid and fn's error. The thread stays parked
// until the test ends and is never unlocked, so it exits with its
// goroutine instead of going back to the Go scheduler in whatever
// namespaces or state fn left it. A goroutine that lands on the main
// thread keeps it locked (and clean) for the test and hands the work to a
// new goroutine, which therefore gets another thread. Children fn starts
// are forked from that thread, so they inherit what fn changed.
func OnThread(t testing.TB, fn func() error) (int, error) {
	t.Helper()
	type made struct {
		tid int
		err error
	}
	ready, done := make(chan made), make(chan struct{})
	var run func()
	run = func() {
		runtime.LockOSThread()
		if unix.Gettid() == os.Getpid() {
			go run()
			<-done
			runtime.UnlockOSThread()
			return
		}
		err := fn()
		ready <- made{unix.Gettid(), err}
		<-done
	}
	go run()
	m := <-ready
	t.Cleanup(func() {
		close(done)
		// Wait until the thread is gone, so that no later test (or
		// discovery pass) meets it.
		for i := 0; i < 5000; i++ {
			if _, err := os.Stat("/proc/self/task/" + strconv.Itoa(m.tid)); err != nil {
				return
			}
			time.Sleep(time.Millisecond)
		}
		t.Errorf("thread %d did not exit", m.tid)
	})
	return m.tid, m.err
}
