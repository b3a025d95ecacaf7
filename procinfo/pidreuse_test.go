package procinfo

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

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

	// The next pid handed out is ns_last_pid+1; nothing of ours forks
	// here, but the Go runtime's own helpers may take a pid between the
	// write and the fork (seen once on 7.3 under QEMU: pid+1 given), so
	// the reuse is tried a few times.
	var reuse *exec.Cmd
	var stdin io.WriteCloser
	for try := 0; ; try++ {
		if err := os.WriteFile("/proc/sys/kernel/ns_last_pid", []byte(strconv.Itoa(pid-1)), 0); err != nil {
			t.Fatal(err)
		}
		reuse = testutil.Command(t, testutil.Held, "sh", "-c", "read x")
		stdin, _ = reuse.StdinPipe()
		if err := reuse.Start(); err != nil {
			t.Fatal(err)
		}
		if reuse.Process.Pid == pid {
			break
		}
		got := reuse.Process.Pid
		stdin.Close()
		reuse.Process.Kill()
		reuse.Wait()
		if try == 4 {
			t.Fatalf("ns_last_pid=%d gave pid %d, want %d (5 tries)", pid-1, got, pid)
		}
	}
	defer func() { stdin.Close(); reuse.Process.Kill(); reuse.Wait() }()
	// The number names the new process now, as a fresh Open shows.
	testutil.WaitComm(t, pid, "sh")
	if q, err := Open(pid); err != nil {
		t.Fatalf("open of the new pid %d: %v", pid, err)
	} else {
		st, err := q.Stat()
		q.Close()
		if err != nil || st.Comm != "sh" {
			t.Fatalf("new pid %d: %+v, %v; want sh", pid, st, err)
		}
	}
	t.Logf("pid %d: pinned sleep, reaped, reused by sh", pid)

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
