package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakePodman puts a podman on PATH that answers `podman inspect --type
// container --format json REF` as podman 4.3.1 did here: the fixture for
// nsi-probe, "no such container" (exit 125) for others, nothing for
// "hung". No API socket listens.
func fakePodman(t *testing.T, fixture string) {
	t.Helper()
	dir := t.TempDir()
	abs, err := filepath.Abs("testdata/" + fixture)
	if err != nil {
		t.Fatal(err)
	}
	script := `#!/bin/sh
[ "$1 $2 $3 $4 $5" = "inspect --type container --format json" ] || { echo "unexpected args: $*" >&2; exit 2; }
case "$6" in
nsi-probe|nsi-rl) cat ` + abs + ` ;;
hung) exec sleep 10 ;;
*) echo "Error: no such container $6" >&2; exit 125 ;;
esac
`
	if err := os.WriteFile(filepath.Join(dir, "podman"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
	noSocket := filepath.Join(dir, "no-such.sock")
	old := rootfulPodmanSocket
	rootfulPodmanSocket = noSocket
	t.Cleanup(func() { rootfulPodmanSocket = old })
	t.Setenv("XDG_RUNTIME_DIR", dir)
}

func TestLookupPodmanCLI(t *testing.T) {
	fakePodman(t, "podman-cli-inspect.json")
	c, err := Lookup(context.Background(), "podman", "nsi-probe")
	if err != nil {
		t.Fatal(err)
	}
	d := c.Declared
	if c.Engine != "podman" || c.Name != "nsi-probe" || c.PID != 14528 || c.Image != "localhost/nsinspect:latest" ||
		d.CgroupnsMode != "host" || d.PidMode != "private" || len(d.CapDrop) != 3 || c.Labels["nsinspect.test"] != "probe" {
		t.Errorf("got %+v", c)
	}
	_, err = Lookup(context.Background(), "podman", "nope")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "`podman inspect` as") {
		t.Errorf("err = %v, want not found, naming the CLI", err)
	}
}

func TestLookupPodmanRootlessCLI(t *testing.T) {
	fakePodman(t, "podman-rootless-cli-inspect.json")
	c, err := Lookup(context.Background(), "podman", "nsi-rl")
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "nsi-rl" || c.Declared.NetworkMode != "none" || c.PID <= 0 {
		t.Errorf("got %+v", c)
	}
}

func TestLookupPodmanHung(t *testing.T) {
	fakePodman(t, "podman-cli-inspect.json")
	start := time.Now()
	_, err := Lookup(context.Background(), "podman", "hung")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > Timeout+time.Second {
		t.Errorf("err = %v after %v, want the deadline at %v", err, time.Since(start), Timeout)
	}
}

func TestLookupPodmanAbsent(t *testing.T) {
	fakePodman(t, "podman-cli-inspect.json")
	t.Setenv("PATH", t.TempDir())
	_, err := Lookup(context.Background(), "podman", "web")
	if !errors.Is(err, ErrNoEngine) || !strings.Contains(err.Error(), "nor the podman command") {
		t.Errorf("err = %v, want no engine", err)
	}
	if _, err := Lookup(context.Background(), "podman", "no-such-user-nsinspect/web"); !errors.Is(err, ErrNoEngine) ||
		!strings.Contains(err.Error(), `no user "no-such-user-nsinspect"`) {
		t.Errorf("err = %v, want no such user", err)
	}
}
