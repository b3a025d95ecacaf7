package integration

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	cri "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// ctrImage is the image the containerd tests import: nsinspect's static
// binary FROM scratch, running `nsinspect hold`, as both the pod's
// sandbox ("pause") image and its containers'. Nothing is pulled.
const ctrImage = "nsinspect-it.local/nsinspect:ctr"

// ownContainerd is a containerd the test started for itself: its own
// config, root, state, socket and runc root under dir, with the CRI
// plugin on the native snapshotter and a CNI network of its own (cni),
// whose network namespaces containerd mounts under its state directory.
// restrict_oom_score_adj keeps CRI from asking runc for the sandbox's
// oom_score_adj of -998, which needs CAP_SYS_RESOURCE: without it (as on
// this project's VMs, whose bounding set lacks it) runc's init fails
// before it can report its PID ("can't get final child's PID from pipe").
type ownContainerd struct {
	dir, sock string
	cmd       *exec.Cmd
	log       *bytes.Buffer
	conn      *grpc.ClientConn
	rt        cri.RuntimeServiceClient
	// cgroupTop is the first component of every pod's cgroup parent,
	// removed (in every hierarchy) at cleanup.
	cgroupTop string
	pods      []string
	ctr, runc string     // the ctr and runc binaries
	ctrRun    []string   // containers started with ctr run, in namespace default
	waited    chan error // containerd's Wait, once it runs
	cni       *cniNetwork
}

const containerdConfig = `version = 2
root = "{{dir}}/root"
state = "{{dir}}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "{{dir}}/containerd.sock"
[ttrpc]
  address = "{{dir}}/containerd.sock.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "{{dir}}/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{{image}}"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "{{runc}}"
        Root = "{{dir}}/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{{cnibin}}"
    conf_dir = "{{dir}}/cni/conf"
`

// startContainerd starts a containerd of the test's own and imports
// ctrImage into its k8s.io namespace. Under CI=true a containerd that
// cannot start fails the test. Everything is undone at cleanup: pods
// stopped and removed, containerd and any shim of its killed, mounts
// under its directory unmounted, cgroups and the directory removed.
func startContainerd(t *testing.T) *ownContainerd {
	t.Helper()
	testutil.RequireRoot(t)
	bin := testutil.RequireCommand(t, "containerd", "containerd")
	runc := testutil.RequireCommand(t, "runc", "runc")
	ctr := testutil.RequireCommand(t, "ctr", "containerd")
	rootfs := staticRootfs(t)
	// The image is made from this file: it must be the static build,
	// readable, since containerd's runtime reads it from the snapshot.
	static := filepath.Join(rootfs, "nsinspect")
	if f, err := os.Open(static); err != nil {
		t.Fatalf("the static nsinspect for the image: %v", err)
	} else {
		f.Close()
	}

	dir, err := os.MkdirTemp("", "nsinspect-ctrd-")
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	rand.Read(b)
	c := &ownContainerd{dir: dir, sock: filepath.Join(dir, "containerd.sock"), log: &bytes.Buffer{},
		cgroupTop: "nsinspect-it-" + hex.EncodeToString(b), ctr: ctr, runc: runc}
	// Registered before testutil.Command's own cleanup would be, it would
	// run after that has killed containerd: the command is made first.
	defer func() {
		if c.cmd == nil {
			os.RemoveAll(dir)
		}
	}()
	for _, d := range []string{"cni/conf", "logs"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The network's bridge is named from the same random suffix as the
	// cgroups: its cleanup is registered before containerd's, so it runs
	// after containerd has torn its pods down.
	c.cni = newCNINetwork(t, dir, hex.EncodeToString(b))
	conf := strings.NewReplacer("{{dir}}", dir, "{{image}}", ctrImage, "{{runc}}", runc, "{{cnibin}}", c.cni.binDir).Replace(containerdConfig)
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	c.cmd = testutil.Command(t, testutil.Held, bin, "--config", filepath.Join(dir, "config.toml"), "--log-level", "info")
	t.Cleanup(func() { c.cleanup(t) })
	c.cmd.Stdout, c.cmd.Stderr = c.log, c.log
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		testutil.Unavailable(t, "containerd does not start: "+err.Error(), "apt-get install containerd")
	}
	c.conn, err = grpc.NewClient("unix://"+c.sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	c.rt = cri.NewRuntimeServiceClient(c.conn)
	if err := c.waitReady(); err != nil {
		testutil.Unavailable(t, fmt.Sprintf("containerd did not become ready: %v; its log:\n%s", err, c.log), "check containerd's log above")
	}
	tarball := filepath.Join(dir, "image.tar")
	writeImageTar(t, tarball, static)
	for _, ns := range []string{"k8s.io", "default"} {
		testutil.MustRun(t, testutil.Command(t, testutil.Slow, ctr, "-a", c.sock, "-n", ns, "images", "import",
			"--snapshotter", "native", tarball))
	}
	// CRI learns of imported images from containerd's events.
	img := cri.NewImageServiceClient(c.conn)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		st, err := img.ImageStatus(ctx, &cri.ImageStatusRequest{Image: &cri.ImageSpec{Image: ctrImage}})
		cancel()
		if err == nil && st.Image != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("CRI does not see the imported %s (%v)", ctrImage, err)
		}
	}
	t.Logf("containerd at %s: %s", c.sock, version(t, bin))
	return c
}

func version(t *testing.T, bin string) string {
	out, _ := testutil.Output(testutil.Command(t, testutil.Quick, bin, "--version"))
	return strings.TrimSpace(out)
}

// waitReady waits for CRI's Version to answer, or containerd to exit.
func (c *ownContainerd) waitReady() error {
	exited := make(chan error, 1)
	go func() { exited <- c.cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			return fmt.Errorf("containerd exited: %v", err)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := c.rt.Version(ctx, &cri.VersionRequest{})
		cancel()
		if err == nil {
			c.waited = exited // cleanup reads containerd's exit from it
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// writeImageTar writes a docker-archive (docker save's format) of one
// layer: the static nsinspect at /nsinspect and an empty /tmp.
func writeImageTar(t *testing.T, path, static string) {
	t.Helper()
	bin, err := os.ReadFile(static)
	if err != nil {
		t.Fatal(err)
	}
	var layer bytes.Buffer
	lw := tar.NewWriter(&layer)
	now := time.Unix(0, 0)
	must(t, lw.WriteHeader(&tar.Header{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777, ModTime: now}))
	must(t, lw.WriteHeader(&tar.Header{Name: "nsinspect", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(bin)), ModTime: now}))
	_, err = lw.Write(bin)
	must(t, err)
	must(t, lw.Close())
	diffID := fmt.Sprintf("sha256:%x", sha256.Sum256(layer.Bytes()))
	config, err := json.Marshal(map[string]any{
		"architecture": runtime.GOARCH,
		"os":           "linux",
		"config":       map[string]any{"Entrypoint": []string{"/nsinspect"}, "Cmd": []string{"hold"}},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{diffID}},
	})
	must(t, err)
	configName := fmt.Sprintf("%x.json", sha256.Sum256(config))
	manifest, err := json.Marshal([]map[string]any{{"Config": configName, "RepoTags": []string{ctrImage}, "Layers": []string{"layer.tar"}}})
	must(t, err)
	f, err := os.Create(path)
	must(t, err)
	defer f.Close()
	w := tar.NewWriter(f)
	for _, e := range []struct {
		name string
		data []byte
	}{{"layer.tar", layer.Bytes()}, {configName, config}, {"manifest.json", manifest}} {
		must(t, w.WriteHeader(&tar.Header{Name: e.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(e.data)), ModTime: now}))
		_, err := w.Write(e.data)
		must(t, err)
	}
	must(t, w.Close())
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// pod is one pod sandbox made as kubelet makes it.
type pod struct {
	namespace, name, uid string
	id                   string // the sandbox's id
	pid                  int    // the sandbox's init ("pause"), as the host numbers it
	config               *cri.PodSandboxConfig
}

// newUID is a Kubernetes UID: a random UUID.
func newUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// kubeletLabels are the labels kubelet puts on a pod's sandbox and, with
// the container's name, on each of its containers.
func kubeletLabels(p *pod, container string) map[string]string {
	l := map[string]string{
		"io.kubernetes.pod.name":      p.name,
		"io.kubernetes.pod.namespace": p.namespace,
		"io.kubernetes.pod.uid":       p.uid,
	}
	if container != "" {
		l["io.kubernetes.container.name"] = container
	}
	return l
}

// podOptions are the pod spec's namespace choices: hostNetwork (the
// node's net and uts namespaces) and shareProcessNamespace (one pid
// namespace, the sandbox's, for all its containers); and privileged: a
// privileged sandbox, whose containers startContainer makes privileged
// too (CRI refuses a privileged container in a sandbox that is not).
type podOptions struct {
	hostNetwork, sharePID, privileged bool
}

// runPod runs a pod sandbox as kubelet does, under a kubelet-like
// cgroupfs parent /TOP/kubepods/besteffort/podUID: in the node's network
// with hostNetwork, else in a network namespace of its own on the test's
// CNI network. Its ipc namespace is the pod's (kubelet's default).
func (c *ownContainerd) runPod(t *testing.T, namespace, name string, o podOptions) *pod {
	t.Helper()
	p := &pod{namespace: namespace, name: name, uid: newUID()}
	ns := &cri.NamespaceOption{Network: cri.NamespaceMode_POD, Pid: cri.NamespaceMode_CONTAINER, Ipc: cri.NamespaceMode_POD}
	if o.hostNetwork {
		ns.Network = cri.NamespaceMode_NODE
	}
	if o.sharePID {
		ns.Pid = cri.NamespaceMode_POD
	}
	hostname := name // kubelet's default for a pod of its own network
	if o.hostNetwork {
		hostname = "" // the node's: runc sets no hostname without a uts namespace of the pod's
	}
	p.config = &cri.PodSandboxConfig{
		Metadata:     &cri.PodSandboxMetadata{Name: name, Namespace: namespace, Uid: p.uid},
		Hostname:     hostname,
		LogDirectory: filepath.Join(c.dir, "logs", namespace+"_"+name+"_"+p.uid),
		Labels:       kubeletLabels(p, ""),
		Annotations:  map[string]string{"kubernetes.io/config.source": "api"},
		Linux: &cri.LinuxPodSandboxConfig{
			CgroupParent:    "/" + c.cgroupTop + "/kubepods/besteffort/pod" + p.uid,
			SecurityContext: &cri.LinuxSandboxSecurityContext{NamespaceOptions: ns, Privileged: o.privileged},
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := c.rt.RunPodSandbox(ctx, &cri.RunPodSandboxRequest{Config: p.config})
	if err != nil {
		t.Fatalf("RunPodSandbox %s/%s: %v; containerd's log:\n%s", namespace, name, err, c.log)
	}
	p.id = r.PodSandboxId
	c.pods = append(c.pods, p.id)
	st, err := c.rt.PodSandboxStatus(ctx, &cri.PodSandboxStatusRequest{PodSandboxId: p.id, Verbose: true})
	if err != nil {
		t.Fatalf("PodSandboxStatus %s/%s: %v", namespace, name, err)
	}
	p.pid = infoPID(t, "PodSandboxStatus "+namespace+"/"+name, st.Info)
	return p
}

// infoPID reads the host PID from a CRI status's verbose info.
func infoPID(t *testing.T, what string, info map[string]string) int {
	t.Helper()
	var v struct {
		Pid int `json:"pid"`
	}
	if err := json.Unmarshal([]byte(info["info"]), &v); err != nil || v.Pid <= 0 {
		t.Fatalf("%s: no pid in its verbose info (%v): %q", what, err, info["info"])
	}
	return v.Pid
}

// startContainer creates and starts `nsinspect hold` in the pod, as
// kubelet does (CreateContainer with its labels, then StartContainer),
// privileged in a privileged pod, and returns its id and its init's
// host PID.
func (c *ownContainerd) startContainer(t *testing.T, p *pod, name string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := &cri.ContainerConfig{
		Metadata: &cri.ContainerMetadata{Name: name},
		Image:    &cri.ImageSpec{Image: ctrImage},
		Command:  []string{"/nsinspect"},
		Args:     []string{"hold"},
		Labels:   kubeletLabels(p, name),
		LogPath:  name + "/0.log",
		Linux: &cri.LinuxContainerConfig{SecurityContext: &cri.LinuxContainerSecurityContext{
			NamespaceOptions: p.config.Linux.SecurityContext.NamespaceOptions,
			Privileged:       p.config.Linux.SecurityContext.Privileged,
		}},
	}
	if !cfg.Linux.SecurityContext.Privileged {
		// kubelet sends its default /proc masks (procMount Default);
		// CRI masks nothing it is not sent.
		cfg.Linux.SecurityContext.MaskedPaths = kubeletMaskedPaths
		cfg.Linux.SecurityContext.ReadonlyPaths = kubeletReadonlyPaths
	}
	r, err := c.rt.CreateContainer(ctx, &cri.CreateContainerRequest{PodSandboxId: p.id, Config: cfg, SandboxConfig: p.config})
	if err != nil {
		t.Fatalf("CreateContainer %s: %v", name, err)
	}
	if _, err := c.rt.StartContainer(ctx, &cri.StartContainerRequest{ContainerId: r.ContainerId}); err != nil {
		t.Fatalf("StartContainer %s: %v", name, err)
	}
	st, err := c.rt.ContainerStatus(ctx, &cri.ContainerStatusRequest{ContainerId: r.ContainerId, Verbose: true})
	if err != nil {
		t.Fatalf("ContainerStatus %s: %v", name, err)
	}
	return r.ContainerId, infoPID(t, "ContainerStatus "+name, st.Info)
}

// kubeletMaskedPaths and kubeletReadonlyPaths are what kubelet asks of
// CRI for a container that is not privileged (its securitycontext
// package's defaults).
var (
	kubeletMaskedPaths = []string{"/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
		"/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"}
	kubeletReadonlyPaths = []string{"/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
)

// ctrRunHold runs `nsinspect hold` as a plain containerd container (ctr
// run, namespace default, no CRI) in cgroup /TOP/ID, which names no
// engine, and returns its init's host PID.
func (c *ownContainerd) ctrRunHold(t *testing.T, id string) int {
	t.Helper()
	c.ctrRun = append(c.ctrRun, id)
	testutil.MustRun(t, testutil.Command(t, testutil.Quick, c.ctr, "-a", c.sock, "-n", "default", "run", "-d",
		"--snapshotter", "native", "--runc-binary", c.runc, "--runc-root", filepath.Join(c.dir, "runc"),
		"--cgroup", "/"+c.cgroupTop+"/"+id, "--log-uri", "file://"+filepath.Join(c.dir, "logs", id+".log"),
		ctrImage, id, "/nsinspect", "hold"))
	out := testutil.MustRun(t, testutil.Command(t, testutil.Quick, c.ctr, "-a", c.sock, "-n", "default", "task", "ls"))
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == id && f[2] == "RUNNING" {
			if pid, err := strconv.Atoi(f[1]); err == nil && pid > 0 {
				return pid
			}
		}
	}
	t.Fatalf("ctr task ls has no running %s:\n%s", id, out)
	return 0
}

// cleanup undoes startContainerd, also after a failure: the pods
// through CRI, then containerd, any shim it left, mounts under its
// directory, the pods' cgroups and the directory.
func (c *ownContainerd) cleanup(t *testing.T) {
	if c.rt != nil {
		for _, id := range c.pods {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if _, err := c.rt.StopPodSandbox(ctx, &cri.StopPodSandboxRequest{PodSandboxId: id}); err != nil {
				t.Errorf("cleanup: StopPodSandbox %s: %v", id, err)
			}
			if _, err := c.rt.RemovePodSandbox(ctx, &cri.RemovePodSandboxRequest{PodSandboxId: id}); err != nil {
				t.Errorf("cleanup: RemovePodSandbox %s: %v", id, err)
			}
			cancel()
		}
	}
	for _, id := range c.ctrRun {
		ctr := func(args ...string) {
			full := append([]string{"-a", c.sock, "-n", "default"}, args...)
			if _, err := testutil.Output(testutil.Command(t, testutil.Quick, c.ctr, full...)); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
		ctr("task", "kill", "-s", "SIGKILL", id)
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			out, _ := testutil.Output(testutil.Command(t, testutil.Quick, c.ctr, "-a", c.sock, "-n", "default", "task", "ls"))
			if !strings.Contains(out, id+" ") || strings.Contains(out, "STOPPED") {
				break
			}
		}
		ctr("task", "delete", id)
		ctr("container", "delete", id)
	}
	if c.conn != nil {
		c.conn.Close()
	}
	if c.cmd != nil && c.cmd.Process != nil {
		syscall.Kill(c.cmd.Process.Pid, syscall.SIGTERM)
		if c.waited != nil {
			select {
			case <-c.waited:
			case <-time.After(20 * time.Second):
				syscall.Kill(c.cmd.Process.Pid, syscall.SIGKILL)
				<-c.waited
			}
		}
	}
	// A shim outlives containerd by design, and the containers its
	// shim ran outlive it: ours name our socket, theirs are in our cgroups.
	for _, pid := range processesWithArg(c.sock) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	killCgroupTree(c.cgroupTop)
	// containerd 1.6 puts a pod's shim socket in /run/containerd/s,
	// whatever its state directory, named by the sha256 of
	// ADDRESS/NAMESPACE/SANDBOX; a shim that was killed leaves it.
	shims := map[string]string{}
	for _, id := range c.pods {
		shims[id] = "k8s.io"
	}
	for _, id := range c.ctrRun {
		shims[id] = "default"
	}
	for id, ns := range shims {
		sock := fmt.Sprintf("/run/containerd/s/%x", sha256.Sum256([]byte(filepath.Join(c.sock, ns, id))))
		if err := os.Remove(sock); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("cleanup: %v", err)
		}
	}
	for _, m := range mountsUnder(c.dir) {
		if err := unix.Unmount(m, unix.MNT_DETACH); err != nil {
			t.Errorf("cleanup: umount %s: %v", m, err)
		}
	}
	removeCgroupTree(t, c.cgroupTop)
	if c.cni != nil {
		for _, id := range c.pods {
			c.cni.forget(t, id)
		}
	}
	if err := os.RemoveAll(c.dir); err != nil {
		t.Errorf("cleanup: %v", err)
	}
}

// processesWithArg lists the processes one of whose arguments contains s.
func processesWithArg(s string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && bytes.Contains(b, []byte(s)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// mountsUnder lists the mount points under dir, deepest first.
func mountsUnder(dir string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) > 4 && strings.HasPrefix(fs[4], dir+"/") {
			out = append(out, fs[4])
		}
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// killCgroupTree kills every process in the cgroups under /TOP, in
// every hierarchy, and waits (a bounded while) for them to be gone.
func killCgroupTree(top string) {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		roots, _ := filepath.Glob("/sys/fs/cgroup/*/" + top)
		roots = append(roots, "/sys/fs/cgroup/"+top)
		var procs []string
		for _, root := range roots {
			filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
				if err == nil && d.Name() == "cgroup.procs" {
					procs = append(procs, path)
				}
				return nil
			})
		}
		left := 0
		for _, f := range procs {
			b, _ := os.ReadFile(f)
			for _, l := range strings.Fields(string(b)) {
				if pid, err := strconv.Atoi(l); err == nil {
					syscall.Kill(pid, syscall.SIGKILL)
					left++
				}
			}
		}
		if left == 0 {
			return
		}
	}
}

// removeCgroupTree removes /TOP and the directories under it in every
// cgroup hierarchy, deepest first: runc removes a container's cgroup,
// but not the parents it made for it.
func removeCgroupTree(t *testing.T, top string) {
	roots, _ := filepath.Glob("/sys/fs/cgroup/*/" + top)
	if _, err := os.Stat("/sys/fs/cgroup/" + top); err == nil {
		roots = append(roots, "/sys/fs/cgroup/"+top)
	}
	for _, root := range roots {
		var dirs []string
		filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, path)
			}
			return nil
		})
		slices.Reverse(dirs)
		for _, d := range dirs {
			if err := os.Remove(d); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
	}
}
