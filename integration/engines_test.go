package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// showContainer is show --json's container object.
type showContainer struct {
	Engine, ID, Name, Image, User, Via, Cgroup, Note string
	Rootless                                         bool
	Labels                                           map[string]string
}

// showOf runs `show PID --json` and returns the container it reports.
func showOf(t *testing.T, pid int) *showContainer {
	t.Helper()
	r := nsinspect(t, "show", "--json", fmt.Sprint(pid))
	if r.code != 0 {
		t.Fatalf("show --json %d: exit %d\n%s", pid, r.code, r.stderr)
	}
	var got struct {
		Container *showContainer `json:"container"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("show --json %d: %v\n%s", pid, err, r.stdout)
	}
	return got.Container
}

// checkShown asserts that show (JSON and table) and compare name c with
// its engine, id and name, recognised the way via says.
func checkShown(t *testing.T, c container, via string) {
	t.Helper()
	got := showOf(t, c.pid)
	if got == nil {
		t.Fatalf("show %d (%s container %s): no container reported", c.pid, c.engine, c.name)
	}
	t.Logf("%s container %s: host pid %d, shown as %+v", c.engine, c.name, c.pid, *got)
	if got.Engine != c.engine || got.ID != c.id || got.Name != c.name || got.Rootless != c.rootless || got.User != c.user || got.Via != via {
		t.Errorf("show %d: container %+v, want %s %s named %s (rootless %v, user %q) via %s",
			c.pid, *got, c.engine, c.id, c.name, c.rootless, c.user, via)
	}
	if got.Note != "" {
		t.Errorf("show %d: note %q: the engine was not asked", c.pid, got.Note)
	}
	if c.engine != "runc" && !strings.Contains(got.Image, "nsinspect") {
		t.Errorf("show %d: image %q, want the nsinspect image", c.pid, got.Image)
	}
	short := c.id
	if len(short) == 64 {
		short = short[:12]
	}
	table := mustRun(t, "show", fmt.Sprint(c.pid))
	if !strings.Contains(table, c.engine+" container "+short) {
		t.Errorf("show table does not name the %s container %s:\n%s", c.engine, short, table)
	}
	cmp := mustRun(t, "compare", "self", fmt.Sprint(c.pid))
	if !strings.Contains(cmp, "in "+c.engine+" container "+short) {
		t.Errorf("compare table does not name the %s container %s:\n%s", c.engine, short, cmp)
	}
}

// TestEngines starts a container with each engine nsinspect knows and
// checks that show and compare recognise it from the host: docker and
// rootful podman by their cgroup paths, rootless podman (which on cgroup
// v1 has no cgroup of its own) by its conmon, plain runc (whose default
// cgroup /ID names no engine) by runc's state.
func TestEngines(t *testing.T) {
	testutil.RequireRoot(t)
	t.Run("host", func(t *testing.T) {
		if c := showOf(t, os.Getpid()); c != nil {
			t.Errorf("show of the test process: container %+v, want none", *c)
		}
		sleep := testutil.Start(t, "sleep", "30")
		if c := showOf(t, sleep.Process.Pid); c != nil {
			t.Errorf("show of a host sleep: container %+v, want none", *c)
		}
	})
	t.Run("docker", func(t *testing.T) {
		e := requireEngine(t)
		before := snapshot(t, e)
		t.Cleanup(func() { checkNoLeaks(t, e, before) })
		checkShown(t, e.startHold(t, "engines"), "cgroup")
	})
	t.Run("podman-rootful", func(t *testing.T) {
		checkShown(t, startPodman(t, false, "engines"), "cgroup")
	})
	t.Run("podman-rootless", func(t *testing.T) {
		checkShown(t, startPodman(t, true, "engines"), "conmon")
	})
	t.Run("runc", func(t *testing.T) {
		checkShown(t, startRuncBundle(t, "engines", nil), "runc-state")
	})
}

// TestPodmanRootlessFromPrivateDir runs rootless podman from a working
// directory only root may enter, as the suite runs from a checkout in
// /root or in a `mktemp -d` directory: the rootless user's podman must not
// inherit it (it would exit at once with "cannot chdir to ...: Permission
// denied").
func TestPodmanRootlessFromPrivateDir(t *testing.T) {
	p := requirePodman(t, true)
	private := t.TempDir()
	if err := os.Chmod(private, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Chdir(private)
	if _, err := p.podman(t, "image", "inspect", "-f", "{{.Id}}", podmanImage); err != nil {
		t.Fatalf("podman image inspect as %s from a directory it cannot enter: %v", rootlessUser, err)
	}
	checkShown(t, startPodman(t, true, "private-dir"), "conmon")
}
