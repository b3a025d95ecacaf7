package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/procinfo"
)

// hostCgroups are a host process's lines on this machine (cgroup v1
// hybrid): nothing there names a container.
func hostCgroups(t *testing.T) []procinfo.Cgroup {
	return cgroupFixture(t, "../procinfo/testdata/cgroup/hybrid")
}

func cgroupFixture(t *testing.T, path string) []procinfo.Cgroup {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cgs, err := procinfo.ParseCgroup(f)
	if err != nil {
		t.Fatal(err)
	}
	return cgs
}

// start runs a program that prints its child's pid, returns that pid and
// kills both at cleanup.
func start(t *testing.T, path string, args ...string) int {
	t.Helper()
	cmd := testutil.Command(t, testutil.Held, path, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// noRunc points the runc state scan at empty directories.
func noRunc(t *testing.T) string {
	dir := t.TempDir()
	oldRoot, oldUsers := runcRoot, runcUserRoots
	runcRoot, runcUserRoots = dir, filepath.Join(dir, "none", "*")
	t.Cleanup(func() { runcRoot, runcUserRoots = oldRoot, oldUsers })
	return dir
}

func TestParseConmon(t *testing.T) {
	for _, tt := range []struct{ file, id, name string }{
		{"conmon-cmdline", "7bdc4c6dedb12eaaf793412dc8b0e4550a54d1ead7f2bae7a1517f3c959a5763", "nsi-probe"},
		{"conmon-rootless-cmdline", "1cfa4b18674d0165eb40eb87b9d20664725874dfa5ff933992947a01fbc687fc", "nsi-rl"},
	} {
		b, err := os.ReadFile("testdata/" + tt.file)
		if err != nil {
			t.Fatal(err)
		}
		c := parseConmon(b)
		if c == nil || c.Engine != "podman" || c.ID != tt.id || c.Name != tt.name || c.Via != "conmon" {
			t.Errorf("%s: got %+v", tt.file, c)
		}
	}
	// CRI-O's conmon has no podman --exit-command; a truncated line no value.
	for _, s := range []string{"/usr/bin/conmon\x00-c\x00abc\x00-n\x00k8s_x\x00", "/usr/bin/conmon\x00-c\x00"} {
		if c := parseConmon([]byte(s)); c != nil {
			t.Errorf("%q: got %+v, want none", s, c)
		}
	}
}

// A process whose parent is a podman conmon is that container's, with no
// cgroup to say so (rootless podman on cgroup v1). The fake conmon is a
// script called conmon: the kernel names a script's task after the script.
func TestMatchConmonAncestor(t *testing.T) {
	noRunc(t)
	id := strings.Repeat("ab", 32)
	script := filepath.Join(t.TempDir(), "conmon")
	os.WriteFile(script, []byte("#!/bin/sh\nsleep 30 &\necho $!\nwait\n"), 0o755)
	pid := start(t, script, "--api-version", "1", "-c", id, "-u", id, "-n", "web", "--exit-command", "/usr/bin/podman")
	c := Match(pid, hostCgroups(t))
	if c == nil || c.Engine != "podman" || c.ID != id || c.Name != "web" || c.Via != "conmon" || c.Rootless != (os.Geteuid() != 0) {
		t.Errorf("got %+v, want podman %s (web) via conmon", c, id)
	}
	if c := Match(os.Getpid(), hostCgroups(t)); c != nil {
		t.Errorf("the test itself: got %+v, want none", c)
	}
}

// writeRuncState writes runc's state for container id with init pid into
// root, from the real state.json of a `runc run -d` here.
func writeRuncState(t *testing.T, root, id string, pid int) {
	t.Helper()
	b, err := os.ReadFile("testdata/runc-state.json")
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	p, err := procinfo.Open(pid)
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.Stat()
	p.Close()
	if err != nil {
		t.Fatal(err)
	}
	st["id"], st["init_process_pid"], st["init_process_start"] = id, pid, s.StartTime
	b, _ = json.Marshal(st)
	os.MkdirAll(filepath.Join(root, id), 0o700)
	if err := os.WriteFile(filepath.Join(root, id, "state.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestRunc(t *testing.T) {
	root := noRunc(t)
	pid := start(t, "/bin/sh", "-c", "sleep 30 & echo $!; wait")
	writeRuncState(t, root, "box", pid)
	c, err := Lookup(context.Background(), "runc", "box")
	if err != nil {
		t.Fatal(err)
	}
	d := c.Declared
	if c.Engine != "runc" || c.Name != "box" || c.PID != pid || c.Labels["bundle"] != "/tmp/rb" ||
		!d.ReadonlyRootfs || d.NetworkMode != "private" || d.UsernsMode != "host" || d.CgroupnsMode != "host" {
		t.Errorf("got %+v", c)
	}
	if m := Match(pid, hostCgroups(t)); m == nil || m.Engine != "runc" || m.ID != "box" || m.Via != "runc-state" {
		t.Errorf("Match(init) = %+v, want runc box", m)
	}
	for _, id := range []string{"nope", "..", "."} {
		if _, err := Lookup(context.Background(), "runc", id); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: err = %v, want not found", id, err)
		}
	}
	// The shell reaps the killed sleep; its pid is then gone.
	syscall.Kill(pid, syscall.SIGKILL)
	for deadline := time.Now().Add(5 * time.Second); procAlive(pid) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := Lookup(context.Background(), "runc", "box"); !errors.Is(err, ErrNotRunning) {
		t.Errorf("after its init died: err = %v, want not running", err)
	}
	runcRoot = filepath.Join(root, "absent")
	_, err = Lookup(context.Background(), "runc", "box")
	if !errors.Is(err, ErrNoEngine) || !strings.HasPrefix(err.Error(), "runc's state directory "+runcRoot+" is absent") {
		t.Errorf("err = %v, want no engine", err)
	}
}

func procAlive(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return err == nil
}

// A process runc exec'd is recognised by its cgroup, one runc made: the
// real lines of a `runc run` container here match its real state.
func TestRuncHoldsCgroup(t *testing.T) {
	b, _ := os.ReadFile("testdata/runc-state.json")
	var st runcState
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if !st.holds(cgroupFixture(t, "testdata/cgroup/runc-default-v1")) {
		t.Error("the container's own cgroup lines are not its cgroups")
	}
	if st.holds(hostCgroups(t)) || st.holds(cgroupFixture(t, "testdata/cgroup/podman-rootful-cgroupfs-v1")) {
		t.Error("another process's cgroup lines are taken for the container's")
	}
}
