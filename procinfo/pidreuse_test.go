package procinfo

import (
	"bufio"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// pidReuseEnv marks the copy of this test binary that runs as pid 1 of a
// private pid namespace, where ns_last_pid can be written without touching
// the host's pid allocation.
const pidReuseEnv = "NSINSPECT_PIDREUSE_CHILD"

// TestPinSurvivesPIDReuse pins a process, kills and reaps it, forces the
// next process to get the same PID (writing ns_last_pid inside a private
// pid namespace) and checks that every read through the pin reports the
// original as gone instead of returning the new process's data.
func TestPinSurvivesPIDReuse(t *testing.T) {
	testutil.CheckLeaks(t)
	if os.Getenv(pidReuseEnv) == "1" {
		pidReuseInNamespace(t)
		return
	}
	testutil.RequireRoot(t)
	testutil.RequireCommand(t, "unshare", "util-linux")
	// --kill-child: the namespace's init (this binary) and so every
	// process in it dies if unshare is killed.
	cmd := testutil.Command(t, testutil.Quick, "unshare", "--pid", "--fork", "--mount-proc", "--kill-child",
		os.Args[0], "-test.run=^TestPinSurvivesPIDReuse$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), pidReuseEnv+"=1")
	out, err := testutil.Output(cmd)
	if err != nil || !strings.Contains(out, "--- PASS: TestPinSurvivesPIDReuse") {
		t.Fatalf("in a private pid namespace: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

func pidReuseInNamespace(t *testing.T) {
	if os.Getpid() != 1 {
		t.Fatalf("want to be pid 1 of a new pid namespace, am %d", os.Getpid())
	}
	orig := testutil.Command(t, testutil.Held, "sleep", "1000")
	if err := orig.Start(); err != nil {
		t.Fatal(err)
	}
	pid := orig.Process.Pid
	testutil.WaitComm(t, pid, "sleep") // Start does not wait for the exec
	p, err := Open(pid)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if st, err := p.Stat(); err != nil || st.Comm != "sleep" {
		t.Fatalf("pinned original %d: %+v, %v", pid, st, err)
	}
	orig.Process.Kill()
	orig.Wait()

	// The next pid handed out is ns_last_pid+1. A shell writes it and
	// at once forks the new process (tail, so that its comm tells it from
	// the original): every thread of the Go runtime is a task with a pid
	// of this namespace, and one it made between a write from here and
	// exec.Cmd.Start took the number (7.3 once, 6.1 arm64 five tries in a
	// row, under QEMU). The shell prints its child's pid and waits.
	child := reuseAs(t, pid)
	for try := 1; child != pid; try++ {
		if try == 5 {
			t.Fatalf("ns_last_pid=%d gave pid %d, want %d (5 tries)", pid-1, child, pid)
		}
		child = reuseAs(t, pid)
	}
	// The number names the new process now, as a fresh Open shows.
	testutil.WaitComm(t, pid, "tail")
	if q, err := Open(pid); err != nil {
		t.Fatalf("open of the new pid %d: %v", pid, err)
	} else {
		st, err := q.Stat()
		q.Close()
		if err != nil || st.Comm != "tail" {
			t.Fatalf("new pid %d: %+v, %v; want tail", pid, st, err)
		}
	}
	t.Logf("pid %d: pinned sleep, reaped, reused by tail", pid)

	reads := map[string]func() error{
		"Alive":      p.Alive,
		"Stat":       func() error { _, err := p.Stat(); return err },
		"Status":     func() error { _, err := p.Status(); return err },
		"comm":       func() error { _, err := p.ReadFile("comm"); return err },
		"Namespaces": func() error { _, err := p.Namespace("net"); return err },
		"ns links": func() error {
			l, err := p.Namespaces()
			if err == nil && len(l) > 0 {
				err = l[0].Err
			}
			return err
		},
		"cwd":      func() error { _, err := p.Readlink("cwd"); return err },
		"FDs":      func() error { _, err := p.FDs(); return err },
		"Cgroups":  func() error { _, err := p.Cgroups(); return err },
		"uid_map":  func() error { _, err := p.UIDMap(); return err },
		"task dir": func() error { _, err := p.ReadDirNames("task"); return err },
	}
	for name, read := range reads {
		if err := read(); !errors.Is(err, ErrProcessGone) {
			t.Errorf("%s through the pin of the reaped original: %v; want ErrProcessGone, not the new process's data", name, err)
		}
	}
}

// reuseAs starts a shell that sets ns_last_pid to pid-1 and forks a tail
// at once, and returns the tail's pid; the two are killed and reaped at
// the test's end, or at once when the tail did not get pid.
func reuseAs(t *testing.T, pid int) int {
	t.Helper()
	sh := testutil.Command(t, testutil.Held, "sh", "-c",
		`echo "$1" > /proc/sys/kernel/ns_last_pid || exit 1; tail -f /dev/null & echo $!; wait`, "sh", strconv.Itoa(pid-1))
	out, err := sh.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	child, cerr := strconv.Atoi(strings.TrimSpace(line))
	stop := func() {
		if child > 0 {
			unix.Kill(child, unix.SIGKILL) // the shell reaps it, then exits
		}
		sh.Process.Kill()
		sh.Wait()
	}
	if err != nil || cerr != nil {
		stop()
		t.Fatalf("the reusing shell printed %q: %v %v", line, err, cerr)
	}
	if child != pid {
		stop()
	} else {
		t.Cleanup(stop)
	}
	return child
}
