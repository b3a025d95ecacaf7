package integration

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// repo is the repository's top directory, as an absolute path: a test may
// change its working directory.
var repo = func() string {
	d, err := filepath.Abs("..")
	if err != nil {
		panic(err)
	}
	return d
}()

// podmanImage is the nsinspect image in each podman store: built FROM
// scratch with the repository's Dockerfile from bin/rootfs, nothing pulled.
const podmanImage = "localhost/nsinspect"

// rootlessUser runs the rootless podman tests. It is made on first use
// (useradd -m, which gives it /etc/subuid and /etc/subgid ranges) and
// kept, like an installed package: its store then caches the image.
const rootlessUser = "nsinspect-rootless"

// podman is root's podman, or rootlessUser's.
type podman struct {
	rootless bool
	user     *user.User // rootlessUser, when rootless
	label    string     // --label on every container of this run
	run      []string   // podman run arguments this machine needs (see probeRun)
}

var (
	podmanMu    sync.Mutex
	podmanReady = map[bool]*podman{}
	staticOnce  sync.Once
	staticErr   error
)

// cmd is podman with args, bounded by timeout, as root or as the
// rootless user (its own HOME and XDG_RUNTIME_DIR: that is where its store
// and run state are). The rootless user's podman runs in its home: it
// cannot enter the test's directory when the checkout is in a directory
// only root may enter (/root, mktemp -d), and podman then exits at once
// ("cannot chdir to ...: Permission denied").
func (p *podman) cmd(t testing.TB, timeout time.Duration, args ...string) *exec.Cmd {
	if !p.rootless {
		return testutil.Command(t, timeout, "podman", args...)
	}
	env := []string{"env", "HOME=" + p.user.HomeDir, "XDG_RUNTIME_DIR=/run/user/" + p.user.Uid, "podman"}
	cmd := testutil.Command(t, timeout, "runuser", append([]string{"-u", rootlessUser, "--"}, append(env, args...)...)...)
	cmd.Dir = p.user.HomeDir
	return cmd
}

// podman runs podman and returns its trimmed stdout; the error carries stderr.
func (p *podman) podman(t testing.TB, args ...string) (string, error) {
	out, err := testutil.Output(p.cmd(t, testutil.Quick, args...))
	return strings.TrimSpace(out), err
}

// staticRootfs builds bin/rootfs (the static nsinspect and an empty
// /tmp, as `make image` stages it) once per run, and returns its path.
func staticRootfs(t *testing.T) string {
	t.Helper()
	rootfs := filepath.Join(repo, "bin", "rootfs")
	staticOnce.Do(func() {
		if _, staticErr = testutil.Output(testutil.Command(t, testutil.Slow, "make", "-C", repo, "static")); staticErr != nil {
			return
		}
		staticErr = os.MkdirAll(filepath.Join(rootfs, "tmp"), 0o1777)
		if staticErr == nil {
			staticErr = os.Chmod(filepath.Join(rootfs, "tmp"), 0o1777)
		}
	})
	if staticErr != nil {
		t.Fatal(staticErr)
	}
	return rootfs
}

// requirePodman stops the test unless podman (rootful or rootless) can
// run a container here, a failure under CI=true. The first call per kind
// builds the image into that store.
func requirePodman(t *testing.T, rootless bool) *podman {
	t.Helper()
	testutil.RequireRoot(t)
	testutil.RequireCommand(t, "podman", "podman")
	podmanMu.Lock()
	defer podmanMu.Unlock()
	if p := podmanReady[rootless]; p != nil {
		return p
	}
	b := make([]byte, 6)
	rand.Read(b)
	p := &podman{rootless: rootless, label: "nsinspect.test=" + hex.EncodeToString(b)}
	staticRootfs(t)
	if rootless {
		testutil.RequireCommand(t, "newuidmap", "uidmap")
		p.user = ensureRootlessUser(t)
	}
	p.buildImage(t)
	p.probeRun(t)
	podmanReady[rootless] = p
	return p
}

// ensureRootlessUser makes rootlessUser with subordinate id ranges and a
// runtime directory (/run/user/UID: no systemd-logind makes it here).
func ensureRootlessUser(t *testing.T) *user.User {
	u, err := user.Lookup(rootlessUser)
	if err != nil {
		testutil.MustRun(t, testutil.Command(t, testutil.Quick, "useradd", "-m", "-s", "/bin/sh", rootlessUser))
		if u, err = user.Lookup(rootlessUser); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		b, _ := os.ReadFile(f)
		if !strings.Contains("\n"+string(b), "\n"+rootlessUser+":") {
			flag := map[string]string{"/etc/subuid": "--add-subuids", "/etc/subgid": "--add-subgids"}[f]
			testutil.MustRun(t, testutil.Command(t, testutil.Quick, "usermod", flag, "200000-265535", rootlessUser))
		}
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	run := "/run/user/" + u.Uid
	if err := os.MkdirAll(run, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(run, uid, gid); err != nil {
		t.Fatal(err)
	}
	return u
}

// buildImage builds podmanImage from bin/rootfs in root's store with the
// repository's Dockerfile (FROM scratch: nothing is pulled), and copies
// it into the rootless user's with podman save | podman load. A rebuild
// that moves the tag removes the old image.
func (p *podman) buildImage(t *testing.T) {
	root := &podman{}
	old, _ := root.podman(t, "image", "inspect", "-f", "{{.Id}}", podmanImage)
	// --layers=false: no intermediate image per Dockerfile step is kept.
	build := root.cmd(t, testutil.Slow, "build", "-q", "--layers=false", "-t", podmanImage, "-f", filepath.Join(repo, "Dockerfile"), repo)
	if _, err := testutil.Output(build); err != nil {
		t.Fatal(err)
	}
	id, err := root.podman(t, "image", "inspect", "-f", "{{.Id}}", podmanImage)
	if err != nil {
		t.Fatal(err)
	}
	if old != "" && old != id {
		root.podman(t, "rmi", old)
	}
	if !p.rootless {
		return
	}
	have, _ := p.podman(t, "image", "inspect", "-f", "{{.Id}}", podmanImage)
	if have == id {
		return
	}
	if err := testutil.Pipe(root.cmd(t, testutil.Slow, "save", podmanImage), p.cmd(t, testutil.Slow, "load")); err != nil {
		t.Fatalf("copying %s into %s's store: %v", podmanImage, rootlessUser, err)
	}
	if have != "" {
		p.podman(t, "rmi", have)
	}
}

// probeRun finds the podman run arguments a container needs here, and
// logs each as an ENGINE LIMIT:
//   - this VM withholds CAP_SYS_RESOURCE, and rootful podman asks runc for
//     RLIMIT_NOFILE 1048576 and RLIMIT_NPROC 4194304, above the hard
//     limits ("error setting rlimit type 7: operation not permitted"):
//     the limits are then set to what podman itself has;
//   - /dev/net/tun is 0600 here (no udev to make it 0666), so a rootless
//     container's slirp4netns cannot open it: --network none.
func (p *podman) probeRun(t *testing.T) {
	try := func() error {
		_, err := p.podman(t, append(append([]string{"run", "--rm", "--label", p.label}, p.run...), podmanImage, "show", "self")...)
		return err
	}
	for range 3 {
		err := try()
		switch {
		case err == nil:
			return
		case strings.Contains(err.Error(), "error setting rlimit"):
			nofile, nproc := hardLimit(t, "Max open files"), hardLimit(t, "Max processes")
			if pidMax := readInt(t, "/proc/sys/kernel/pid_max"); nproc > pidMax {
				nproc = pidMax // podman lowers its own RLIMIT_NPROC to pid_max
			}
			p.run = append(p.run, "--ulimit", fmt.Sprintf("nofile=%d:%d", nofile, nofile), "--ulimit", fmt.Sprintf("nproc=%d:%d", nproc, nproc))
			t.Logf("ENGINE LIMIT: podman's default rlimits are refused (%s); containers run with %v", oneLine(err.Error()), p.run)
		case p.rootless && strings.Contains(err.Error(), "/dev/net/tun"):
			p.run = append(p.run, "--network", "none")
			t.Logf("ENGINE LIMIT: rootless networking fails (%s): /dev/net/tun is not 0666; rootless containers run with --network none", oneLine(err.Error()))
		default:
			testutil.Unavailable(t, fmt.Sprintf("podman (rootless=%v) cannot run a container here: %s", p.rootless, oneLine(err.Error())),
				"see the error; .ci/run installs podman, uidmap, slirp4netns and fuse-overlayfs")
		}
	}
	if err := try(); err != nil {
		testutil.Unavailable(t, fmt.Sprintf("podman (rootless=%v) cannot run a container here: %s", p.rootless, oneLine(err.Error())), "see the error")
	}
}

// hardLimit is a hard limit of this process from /proc/self/limits.
func hardLimit(t *testing.T, name string) int {
	b, err := os.ReadFile("/proc/self/limits")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), name); ok {
			if f := strings.Fields(rest); len(f) >= 2 {
				if n, err := strconv.Atoi(f[1]); err == nil {
					return n
				}
			}
		}
	}
	t.Fatalf("/proc/self/limits: no hard %q", name)
	return 0
}

func readInt(t *testing.T, path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// startPodman starts `nsinspect hold` in a podman container, root's or
// (rootless) rootlessUser's, with extra podman run flags, and returns once
// hold has announced itself. The container is removed in t.Cleanup,
// which fails the test if it is still there afterwards.
func startPodman(t *testing.T, rootless bool, name string, flags ...string) container {
	t.Helper()
	p := requirePodman(t, rootless)
	name = "nsinspect-it-" + name + "-" + strings.TrimPrefix(p.label, "nsinspect.test=")
	args := append(append([]string{"run", "-d", "--rm", "--label", p.label, "--name", name}, p.run...), flags...)
	id, err := p.podman(t, append(args, podmanImage, "hold")...)
	if id != "" {
		t.Cleanup(func() {
			if _, err := p.podman(t, "rm", "-f", "-t", "0", id); err != nil && !strings.Contains(err.Error(), "no such container") {
				t.Errorf("removing podman container %s: %v", name, err)
			}
			if left, _ := p.podman(t, "ps", "-aq", "--filter", "label="+p.label, "--filter", "id="+id); left != "" {
				t.Errorf("podman container %s left behind", name)
			}
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	c := container{id: id, name: name, engine: "podman", rootless: rootless}
	if rootless {
		c.user = rootlessUser
	}
	c.pid = waitHold(t, name, func() (string, error) { return p.podman(t, "logs", id) },
		func() (string, error) { return p.podman(t, "inspect", "-f", "{{.State.Pid}}", id) })
	return c
}

// waitHold waits (boundedly) until hold in a container has printed its
// PID, and returns the host PID the engine gives.
func waitHold(t *testing.T, name string, logs, hostPID func() (string, error)) int {
	t.Helper()
	var said string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if said, _ = logs(); said != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s: hold did not announce itself", name)
		}
	}
	out, err := hostPID()
	pid, aerr := strconv.Atoi(out)
	if err != nil || aerr != nil || pid <= 0 {
		t.Fatalf("container %s: no host PID (%q, %v)", name, out, err)
	}
	if said != "1" && said != out {
		t.Fatalf("container %s: hold says it is pid %q, the engine says host pid %d", name, said, pid)
	}
	return pid
}

// startRuncBundle runs `nsinspect hold` with plain runc from an OCI bundle
// made here: rootfs/ is bin/rootfs (no image), config.json is `runc spec`'s
// with the hold command and no terminal, then edit's changes (nil: none).
// runc run -d gives the container runc's stdio: hold's announcement goes
// to a file. Cleanup kills and deletes the container and fails the test
// if runc's state, the container's cgroups or its process are left.
func startRuncBundle(t *testing.T, name string, edit func(spec map[string]any)) container {
	t.Helper()
	return startRuncBundleVia(t, name, edit, nil)
}

// startRuncBundleVia is startRuncBundle with `runc run -d` run as the
// command of via (e.g. nsinspect trace ... --), which must exit when runc
// does.
func startRuncBundleVia(t *testing.T, name string, edit func(spec map[string]any), via []string) container {
	t.Helper()
	testutil.RequireRoot(t)
	testutil.RequireCommand(t, "runc", "runc")
	rootfs := staticRootfs(t)
	dir := t.TempDir()
	// A container with a user namespace of its own mounts the rootfs as
	// its mapped root, who must be able to reach it: t.TempDir's
	// directories are 0700.
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	testutil.MustRun(t, testutil.Command(t, testutil.Quick, "cp", "-a", rootfs, filepath.Join(dir, "rootfs")))
	testutil.MustRun(t, testutil.Command(t, testutil.Quick, "runc", "spec", "--bundle", dir))
	cfg := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var spec map[string]any
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	proc := spec["process"].(map[string]any)
	proc["terminal"], proc["args"] = false, []string{"/nsinspect", "hold"}
	if edit != nil {
		edit(spec)
	}
	if b, err = json.MarshalIndent(spec, "", "\t"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, b, 0o644); err != nil {
		t.Fatal(err)
	}
	rnd := make([]byte, 6)
	rand.Read(rnd)
	id := "nsinspect-it-" + name + "-" + hex.EncodeToString(rnd)
	// Files, not pipes: the container keeps runc's stdio open, and a
	// pipe would make Run wait for the container to exit.
	stdout, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	argv := append(slices.Clone(via), "runc", "run", "-d", "--bundle", dir, "--pid-file", filepath.Join(dir, "pid"), id)
	run := testutil.Command(t, testutil.Quick, argv[0], argv[1:]...)
	run.Stdout, run.Stderr = stdout, stderr
	err = run.Run()
	// The state is read before it is deleted: its cgroups must go with it.
	var cgroups []string
	if st, rerr := os.ReadFile("/run/runc/" + id + "/state.json"); rerr == nil {
		var s struct {
			Cgroups map[string]string `json:"cgroup_paths"`
		}
		json.Unmarshal(st, &s)
		for _, p := range s.Cgroups {
			cgroups = append(cgroups, p)
		}
	}
	t.Cleanup(func() { removeRunc(t, id, cgroups) })
	if err != nil {
		msg, _ := os.ReadFile(stderr.Name())
		t.Fatalf("runc run -d %s: %v: %s", id, err, strings.TrimSpace(string(msg)))
	}
	c := container{id: id, name: id, engine: "runc"}
	c.pid = waitHold(t, id, func() (string, error) {
		b, err := os.ReadFile(stdout.Name())
		return strings.TrimSpace(string(b)), err
	}, func() (string, error) {
		b, err := os.ReadFile(filepath.Join(dir, "pid"))
		return strings.TrimSpace(string(b)), err
	})
	return c
}

// removeRunc kills and deletes a runc container and checks that runc's
// state directory, its cgroups and its init are gone.
func removeRunc(t *testing.T, id string, cgroups []string) {
	pid := 0
	if b, err := os.ReadFile("/run/runc/" + id + "/state.json"); err == nil {
		var s struct {
			Pid int `json:"init_process_pid"`
		}
		json.Unmarshal(b, &s)
		pid = s.Pid
	}
	testutil.Output(testutil.Command(t, testutil.Quick, "runc", "kill", id, "KILL"))
	if _, err := testutil.Output(testutil.Command(t, testutil.Quick, "runc", "delete", "-f", id)); err != nil &&
		!strings.Contains(err.Error(), "does not exist") {
		t.Errorf("runc delete -f %s: %v", id, err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var left []string
		if _, err := os.Stat("/run/runc/" + id); err == nil {
			left = append(left, "/run/runc/"+id)
		}
		for _, cg := range cgroups {
			if _, err := os.Stat(cg); err == nil {
				left = append(left, cg)
			}
		}
		if pid > 0 {
			if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
				left = append(left, "process "+strconv.Itoa(pid))
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("runc container %s left behind: %v", id, left)
			return
		}
	}
}
