package testutil

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// leakSettle is how long CheckLeaks waits for fds and goroutines to go
// away after the test's other cleanups: a goroutine told to stop, or an fd
// a goroutine closes on its way out, takes a moment.
const leakSettle = 2 * time.Second

// CheckLeaks records the file descriptors open in this process (number and
// link target) and the goroutines running, and fails the test at cleanup if
// an fd opened since is still open or a goroutine started since still runs.
// Call it first in the test, so that its check runs after every other
// cleanup (they run last in, first out).
//
// It sees the whole process, so it is not for a test that runs in
// parallel with others. What the Go runtime opens once and keeps (the
// netpoller's epoll fd and eventfd) is opened before the fds are recorded,
// and goroutines the runtime makes for itself (finalizers, cleanups) or
// os/signal keeps are not counted.
func CheckLeaks(t testing.TB) {
	t.Helper()
	checkLeaks(t, leakSettle)
}

func checkLeaks(t testing.TB, settle time.Duration) {
	t.Helper()
	warmRuntime()
	fds, err := openFDs()
	if err != nil {
		t.Fatalf("listing open fds: %v", err)
	}
	gs := goroutines()
	t.Cleanup(func() {
		var leakedFDs, leakedGs []string
		for deadline := time.Now().Add(settle); ; time.Sleep(10 * time.Millisecond) {
			leakedFDs, leakedGs = newFDs(fds), newGoroutines(gs)
			if len(leakedFDs)+len(leakedGs) == 0 || time.Now().After(deadline) {
				break
			}
		}
		if len(leakedFDs) > 0 {
			t.Errorf("fds opened during the test are still open: %s", strings.Join(leakedFDs, ", "))
		}
		if len(leakedGs) > 0 {
			t.Errorf("%d goroutines started during the test still run after %v:\n%s", len(leakedGs), settle, strings.Join(leakedGs, "\n\n"))
		}
	})
}

// warmRuntime makes the runtime open what it opens lazily and keeps: the
// first pollable file starts the netpoller (an epoll fd and an eventfd).
func warmRuntime() {
	if r, w, err := os.Pipe(); err == nil {
		r.Close()
		w.Close()
	}
}

// openFDs maps each fd open in this process to its link target.
func openFDs() (map[int]string, error) {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return nil, err
	}
	defer d.Close()
	self := int(d.Fd())
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	out := make(map[int]string, len(names))
	for _, n := range names {
		fd, err := strconv.Atoi(n)
		if err != nil || fd == self {
			continue
		}
		if target, err := os.Readlink("/proc/self/fd/" + n); err == nil {
			out[fd] = target // else closed since the listing
		}
	}
	return out, nil
}

// newFDs lists, as "fd N (TARGET)", the fds open now that were not open
// with the same target before.
func newFDs(before map[int]string) []string {
	now, err := openFDs()
	if err != nil {
		return []string{"cannot list fds: " + err.Error()}
	}
	var nums []int
	for fd, target := range now {
		if was, ok := before[fd]; !ok || was != target {
			nums = append(nums, fd)
		}
	}
	sort.Ints(nums)
	out := make([]string, len(nums))
	for i, fd := range nums {
		out[i] = fmt.Sprintf("fd %d (%s)", fd, now[fd])
	}
	return out
}

// goroutines maps the id of each goroutine that counts to its stack, as
// runtime.Stack prints it.
func goroutines() map[string]string {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := map[string]string{}
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		// "goroutine 42 [chan receive]:\nmain.f(...)\n..."
		s := string(g)
		id, _, ok := strings.Cut(strings.TrimPrefix(s, "goroutine "), " ")
		if !ok || !strings.HasPrefix(s, "goroutine ") || ignoredGoroutine(s) {
			continue
		}
		out[id] = s
	}
	return out
}

// ignoredGoroutine reports whether a stack is one of the goroutines the
// runtime starts for itself and shows while they run user code (finalizers,
// runtime.AddCleanup functions), or os/signal's loop, which runs from the
// first signal.Notify to the end of the process.
func ignoredGoroutine(stack string) bool {
	return strings.Contains(stack, "\ncreated by runtime.") || strings.Contains(stack, "\nos/signal.loop()")
}

// newGoroutines lists the stacks of the goroutines running now that were
// not running before.
func newGoroutines(before map[string]string) []string {
	var out []string
	for id, stack := range goroutines() {
		if _, ok := before[id]; !ok {
			out = append(out, stack)
		}
	}
	sort.Strings(out)
	return out
}
