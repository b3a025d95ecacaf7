package inspect

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nsinspect/nsinspect/procinfo"
)

func TestParseTarget(t *testing.T) {
	self := os.Getpid()
	good := []struct {
		arg          string
		engine, name string
		pid, tid     int
	}{
		{"1", "", "", 1, 1},
		{"self", "", "", self, self},
		{"42:43", "", "", 42, 43},
		{"self:7", "", "", self, 7},
		{"docker:web", "docker", "web", 0, 0},
		{"podman:alice/db", "podman", "alice/db", 0, 0},
		{"runc:ctr-1", "runc", "ctr-1", 0, 0},
	}
	for _, c := range good {
		got, err := ParseTarget(c.arg)
		if err != nil {
			t.Errorf("ParseTarget(%q): %v", c.arg, err)
			continue
		}
		if got.Engine != c.engine || got.Name != c.name || got.PID != c.pid || got.TID != c.tid {
			t.Errorf("ParseTarget(%q) = %+v", c.arg, got)
		}
	}
	bad := map[string]string{
		"":            `bad PID ""`,
		"0":           "must be greater than 0",
		"abc":         "not a number",
		"1:x":         "bad thread id",
		"docker:":     "no container name",
		"nosuch:x":    `unknown engine "nosuch"`,
		"99999999999": "out of range",
	}
	for arg, want := range bad {
		_, err := ParseTarget(arg)
		if !errors.Is(err, ErrBadInput) || !contains(err.Error(), want) {
			t.Errorf("ParseTarget(%q): %v; want bad input saying %q", arg, err, want)
		}
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && (s == sub || indexOf(s, sub) >= 0))
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// TestResolveNoSuchTask: a PID that names nothing is ErrNoSuchTask, a
// reaped child's PID included (pid_max is never a PID).
func TestResolveNoSuchTask(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/kernel/pid_max")
	if err != nil {
		t.Fatal(err)
	}
	never := string(b[:len(b)-1])
	_, err = Resolve(context.Background(), never, time.Second)
	if !errors.Is(err, ErrNoSuchTask) || ClassOf(err) != BadInput {
		t.Errorf("Resolve(%s): %v (class %v); want ErrNoSuchTask", never, err, ClassOf(err))
	}
}

// TestReadErrorAfterExit: a task pinned, then gone, reads as undecided
// (exit 5), not as bad input or another task's data.
func TestReadErrorAfterExit(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sleep", "100")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r, err := Resolve(ctx, strconv.Itoa(cmd.Process.Pid), time.Second)
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal(err)
	}
	defer r.Close()
	cmd.Process.Kill()
	cmd.Wait()
	_, err = r.Proc.ReadFile("status")
	if !errors.Is(err, procinfo.ErrProcessGone) {
		t.Fatalf("reading a reaped task: %v; want ErrProcessGone", err)
	}
	if got := ReadError(r.Proc, "status", err); ClassOf(got) != Undecided {
		t.Errorf("ReadError: %v, class %v; want undecided", got, ClassOf(got))
	}
}

// TestResolveEngineDownOrSlow: an engine target whose socket is absent
// or never answers is undecided, never bad input and never a hang.
func TestResolveEngineDownOrSlow(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(dir, "absent.sock"))
	_, err := Resolve(context.Background(), "docker:web", time.Second)
	if ClassOf(err) != Undecided {
		t.Errorf("absent socket: %v (class %v); want undecided", err, ClassOf(err))
	}

	sock := filepath.Join(dir, "mute.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // accepted, never answered
		}
	}()
	t.Setenv("DOCKER_HOST", "unix://"+sock)
	start := time.Now()
	_, err = Resolve(context.Background(), "docker:web", 200*time.Millisecond)
	if ClassOf(err) != Undecided || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("mute engine: %v (class %v); want undecided by the deadline", err, ClassOf(err))
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("mute engine: Resolve took %v with a 200ms timeout", d)
	}
}

// FuzzParseTarget: a target parses to positive pid and tid or to an
// engine and a name, or to a bad-input error (exit 2); never a panic.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"self", "1", "1:1", "self:2", "0", "-1", "99999999999", "1:", ":1", "1:x", " 1", "", "4194304:4194305", "docker:", "docker:web", "podman:alice/db", "nosuch:x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tk, err := ParseTarget(s)
		if err != nil {
			if c := ClassOf(err); c != BadInput {
				t.Fatalf("%q: error of class %v, want %v: %v", s, c, BadInput, err)
			}
			return
		}
		if tk.Engine != "" {
			if tk.Name == "" {
				t.Fatalf("%q parsed to engine %q with no name", s, tk.Engine)
			}
			return
		}
		if tk.PID <= 0 || tk.TID <= 0 {
			t.Fatalf("%q parsed to pid %d tid %d", s, tk.PID, tk.TID)
		}
	})
}
