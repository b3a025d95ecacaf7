package integration

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// image is the tag `make image` builds and the container tests run.
const image = "nsinspect"

// engine is the Docker engine the container tests run against.
type engine struct {
	label       string   // --label on every container of this run, for the leak check
	privileged  []string // the docker run arguments that make a privileged container here
	usernsRemap bool     // the daemon runs with userns-remap
	info        string   // server version, cgroup version and driver, for logs
}

// docker runs the docker CLI, bounded by testutil.Quick, and returns its
// trimmed stdout; the error carries stderr.
func docker(t testing.TB, args ...string) (string, error) {
	out, err := testutil.Output(testutil.Command(t, testutil.Quick, "docker", args...))
	return strings.TrimSpace(out), err
}

func mustDocker(t testing.TB, args ...string) string {
	t.Helper()
	out, err := docker(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// requireEngine stops the test unless a Docker engine answers (a failure
// under CI=true), then builds the image with `make image`.
func requireEngine(t *testing.T) *engine {
	t.Helper()
	testutil.RequireRoot(t)
	testutil.RequireCommand(t, "docker", "docker.io")
	info, err := docker(t, "info", "--format", "{{json .}}")
	if err != nil {
		testutil.Unavailable(t, "no Docker engine is reachable ("+oneLine(err.Error())+")",
			"start one (service docker start, or dockerd &) and run again")
	}
	var di struct {
		ServerVersion   string
		CgroupVersion   string
		CgroupDriver    string
		SecurityOptions []string
	}
	if err := json.Unmarshal([]byte(info), &di); err != nil {
		t.Fatalf("reading docker info: %v", err)
	}
	e := &engine{info: fmt.Sprintf("engine %s, cgroup v%s (%s driver), security options %v",
		di.ServerVersion, di.CgroupVersion, di.CgroupDriver, di.SecurityOptions)}
	for _, o := range di.SecurityOptions {
		e.usernsRemap = e.usernsRemap || strings.Contains(o, "name=userns")
	}
	b := make([]byte, 6)
	rand.Read(b)
	e.label = "nsinspect.test=" + hex.EncodeToString(b)

	out := testutil.MustRun(t, testutil.Command(t, testutil.Slow, "make", "-C", repo, "image"))
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "image "+image+":") {
			t.Log(line) // the image size, as the build printed it
		}
	}
	e.privileged = privilegedArgs(t)
	return e
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// privilegedArgs returns ["--privileged"] when the engine can start a
// privileged container. An engine whose own capability bounding set lacks
// a capability cannot (runc fails with "unable to apply caps": this
// machine's VM withholds CAP_SYS_RESOURCE from every process); then the
// closest it can do is returned: every capability it has, no seccomp, no
// AppArmor, no masked /proc paths.
func privilegedArgs(t *testing.T) []string {
	_, err := docker(t, "run", "--rm", "--privileged", image, "show", "self")
	if err == nil {
		return []string{"--privileged"}
	}
	if !strings.Contains(err.Error(), "apply caps") {
		t.Fatalf("a privileged container does not start: %v", err)
	}
	args := []string{"--cap-add", "ALL"}
	missing := missingCaps(t)
	for _, c := range missing {
		args = append(args, "--cap-drop", c)
	}
	args = append(args, "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
		"--security-opt", "systempaths=unconfined")
	t.Logf("ENGINE LIMIT: --privileged is refused here (%s): the capability bounding set lacks %v; privileged containers run as %v",
		oneLine(err.Error()), missing, args)
	return args
}

// capNames are the capabilities by number (capability.h).
var capNames = strings.Fields(`CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP
	LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE
	SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME
	SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG
	WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE`)

// missingCaps lists the known capabilities absent from this process's
// bounding set (and so from the engine's, which runs beside it as root).
func missingCaps(t *testing.T) []string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	var bnd uint64
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "CapBnd:"); ok {
			bnd, err = strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	var missing []string
	for i, name := range capNames {
		if bnd&(1<<i) == 0 {
			missing = append(missing, name)
		}
	}
	return missing
}

// container is one started test container, of any engine
// (engines_helpers_test.go starts podman and runc ones).
type container struct {
	id, name string
	pid      int    // its PID 1, as the host numbers it
	engine   string // docker, podman or runc
	rootless bool   // run by user's rootless podman
	user     string
}

// startHold starts `nsinspect hold` in a container with extra docker run
// flags and returns once hold has announced itself (its signal handlers
// are in place). The container is removed in t.Cleanup.
func (e *engine) startHold(t *testing.T, name string, flags ...string) container {
	t.Helper()
	name = "nsinspect-it-" + name + "-" + strings.TrimPrefix(e.label, "nsinspect.test=")
	args := append([]string{"run", "-d", "--rm", "--label", e.label, "--name", name}, flags...)
	id, err := docker(t, append(args, image, "hold")...)
	if id != "" {
		t.Cleanup(func() { docker(t, "rm", "-f", id) })
	}
	if err != nil {
		t.Fatal(err)
	}
	// hold prints its PID once it handles SIGTERM; a bound on the wait
	// keeps a broken container from hanging the suite.
	var logs string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if logs, _ = docker(t, "logs", id); logs != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s: hold did not announce itself", name)
		}
	}
	pid, err := strconv.Atoi(mustDocker(t, "inspect", "-f", "{{.State.Pid}}", id))
	if err != nil || pid <= 0 {
		t.Fatalf("container %s: no host PID (%v)", name, err)
	}
	// hold is PID 1 of the container's own PID namespace, or, with
	// --pid host, numbered as the host numbers it.
	if logs != "1" && logs != strconv.Itoa(pid) {
		t.Fatalf("container %s: hold says it is pid %q, the engine says host pid %d", name, logs, pid)
	}
	return container{id: id, name: name, pid: pid, engine: "docker"}
}

// engineState is what the leak check compares before and after the tests.
type engineState struct {
	containers, networks, dangling, images []string
}

func snapshot(t testing.TB, e *engine) engineState {
	list := func(args ...string) []string {
		out := mustDocker(t, args...)
		s := strings.Fields(out)
		slices.Sort(s)
		return s
	}
	return engineState{
		containers: list("ps", "-aq", "--no-trunc", "--filter", "label="+e.label),
		networks:   list("network", "ls", "-q", "--no-trunc"),
		dangling:   list("images", "-q", "--no-trunc", "--filter", "dangling=true"),
		images:     list("images", "-aq", "--no-trunc"),
	}
}

// checkNoLeaks fails the test if this run left a container, a network or
// an image layer behind. Docker removes a --rm container asynchronously
// after it stops, so containers are waited for (boundedly).
func checkNoLeaks(t *testing.T, e *engine, before engineState) {
	var after engineState
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		after = snapshot(t, e)
		if len(after.containers) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(after.containers) > 0 {
		t.Errorf("containers left behind: %v", after.containers)
	}
	if !slices.Equal(after.networks, before.networks) {
		t.Errorf("networks changed: before %v, after %v", before.networks, after.networks)
	}
	for _, id := range after.dangling {
		if !slices.Contains(before.dangling, id) {
			t.Errorf("dangling image left behind: %s", id)
		}
	}
	// The only new images may be the nsinspect image and its layers (a
	// classic build keeps one parent image per Dockerfile step).
	chain := strings.Fields(mustDocker(t, "history", "-q", "--no-trunc", image))
	for _, id := range after.images {
		if !slices.Contains(before.images, id) && !slices.Contains(chain, id) {
			t.Errorf("image left behind that is not part of %s: %s", image, id)
		}
	}
}
