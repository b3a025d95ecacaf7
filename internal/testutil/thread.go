package testutil

import (
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// ThreadUnshare makes one thread of the test process, never its leader
// (whose /proc/PID/ns links are the process's), call unshare(flags), and
// returns its tid. The thread stays parked until the test ends and is
// never unlocked, so it exits with its goroutine instead of going back to
// the Go scheduler in foreign namespaces. A goroutine that lands on the
// main thread keeps it locked (and clean) for the test and hands the work
// to a new goroutine, which therefore gets another thread.
func ThreadUnshare(t testing.TB, flags int) int {
	t.Helper()
	type made struct {
		tid int
		err error
	}
	ready, done := make(chan made), make(chan struct{})
	t.Cleanup(func() { close(done) })
	var run func()
	run = func() {
		runtime.LockOSThread()
		if unix.Gettid() == os.Getpid() {
			go run()
			<-done
			runtime.UnlockOSThread()
			return
		}
		err := unix.Unshare(flags)
		ready <- made{unix.Gettid(), err}
		<-done
	}
	go run()
	m := <-ready
	if m.err != nil {
		t.Fatalf("unshare(%#x) on a thread: %v", flags, m.err)
	}
	return m.tid
}
