package inspect

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// After the command exits, a followed process that is gone or a zombie
// (its exit not seen: here, followed again after it exited) is no longer
// waited for, each with a notice; one that runs is named once, and still
// followed.
func TestReviewFollowed(t *testing.T) {
	testutil.RequireRoot(t)
	tr, err := openTracer(true, "")
	if err != nil {
		testutil.Unavailable(t, fmt.Sprintf("no tracer: %v", err), "run as root on a kernel with BTF")
	}
	defer tr.Close()
	sleeper := testutil.Command(t, testutil.Quick, "sleep", "100")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleeper.Process.Kill(); sleeper.Wait() }()
	zombie := testutil.Command(t, testutil.Quick, "true")
	if err := zombie.Start(); err != nil {
		t.Fatal(err)
	}
	defer zombie.Wait()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if st, err := procStat(zombie.Process.Pid); err == nil && st.State == 'Z' {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("true did not become a zombie in 10 s")
		}
	}
	gone := testutil.Command(t, testutil.Quick, "true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []int{zombie.Process.Pid, gone.Process.Pid} {
		if err := tr.Follow(p); err != nil {
			t.Fatal(err)
		}
	}
	var notices []string
	noticed := false
	for range 2 {
		if err := reviewFollowed(tr, func(s string) { notices = append(notices, s) }, &noticed); err != nil {
			t.Fatal(err)
		}
	}
	left, err := tr.Followed()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(left, []int{sleeper.Process.Pid}) {
		t.Errorf("still followed %v, want only the sleep %d", left, sleeper.Process.Pid)
	}
	want := []string{
		fmt.Sprintf("process %d exited without", zombie.Process.Pid),
		fmt.Sprintf("process %d exited without", gone.Process.Pid),
		fmt.Sprintf("waiting for what it made that still runs: %d (sleep)", sleeper.Process.Pid),
	}
	if len(notices) != len(want) {
		t.Fatalf("notices %q, want %d", notices, len(want))
	}
	for _, w := range want {
		if !slices.ContainsFunc(notices, func(n string) bool { return strings.Contains(n, w) }) {
			t.Errorf("no notice with %q in %q", w, notices)
		}
	}
}
