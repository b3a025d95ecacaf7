package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"
)

// daemonSetRun turns the DaemonSet's pod spec into the nearest `docker
// run`: --pid host for hostPID, the same user, --cap-drop ALL and each
// added capability, --read-only, no-new-privileges for
// allowPrivilegeEscalation: false, each hostPath volume mounted read-only
// where the pod mounts it (hostPaths maps a node path to the test's
// stand-in), the container's args. A capability the engine does not know
// (Docker 20.10 predates CAP_BPF and CAP_PERFMON) is left out and logged
// as ENGINE LIMIT; the server then reads /proc, as it does on any node
// that refuses BPF.
func (e *engine) daemonSetRun(t *testing.T, hostPaths map[string]string) (args, cmd []string) {
	t.Helper()
	b, err := os.ReadFile("../deploy/kubernetes/daemonset.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var ds appsv1.DaemonSet
	if err := yaml.UnmarshalStrict(b, &ds); err != nil {
		t.Fatal(err)
	}
	spec := ds.Spec.Template.Spec
	c := spec.Containers[0]
	if spec.HostPID {
		args = append(args, "--pid", "host")
	}
	if sc := spec.SecurityContext; sc != nil && sc.RunAsUser != nil {
		args = append(args, "--user", fmt.Sprintf("%d:%d", *sc.RunAsUser, *sc.RunAsGroup))
	}
	sc := c.SecurityContext
	if sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem {
		args = append(args, "--read-only")
	}
	if sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
		args = append(args, "--security-opt", "no-new-privileges")
	}
	for _, d := range sc.Capabilities.Drop {
		args = append(args, "--cap-drop", string(d))
	}
	var limited []string
	for _, a := range sc.Capabilities.Add {
		if _, err := docker(t, "run", "--rm", "--label", e.label, "--cap-add", string(a), image, "--help"); err != nil && strings.Contains(err.Error(), "unknown capability") {
			limited = append(limited, string(a))
			continue
		}
		args = append(args, "--cap-add", string(a))
	}
	if len(limited) > 0 {
		t.Logf("ENGINE LIMIT: the engine does not know capabilities %v: the container runs without them", limited)
	}
	vols := map[string]string{}
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			vols[v.Name] = v.HostPath.Path
		}
	}
	for _, m := range c.VolumeMounts {
		src := hostPaths[vols[m.Name]]
		if src == "" {
			t.Fatalf("no stand-in for hostPath %s", vols[m.Name])
		}
		opt := "type=bind,src=" + src + ",dst=" + m.MountPath
		if m.ReadOnly {
			opt += ",readonly"
		}
		args = append(args, "--mount", opt)
	}
	return args, c.Args
}

// TestServeDaemonSet runs the DaemonSet's pod spec as the nearest docker
// run, beside containers with --network host, --pid host, --ipc host and
// the default and one in a kubelet-style pod cgroup, and checks the
// metrics served from inside against the host's kernel: each container's
// namespace gauges, and the pod's namespace, name and container name read
// from the (stand-in) kubelet log directories.
func TestServeDaemonSet(t *testing.T) {
	e := requireEngine(t)
	before := snapshot(t, e)
	t.Cleanup(func() { checkNoLeaks(t, e, before) })
	cs := isolationContainers(t, e)

	// A pod as kubelet lays it out: its cgroup under /kubepods/.../pod<UID>
	// (cgroupfs driver), its logs under /var/log/pods and /var/log/containers.
	const uid = "0f6c1f6e-8d3a-4b7e-9f58-2a1d3c4b5e6f"
	node := t.TempDir()
	pods, ctrs := filepath.Join(node, "pods"), filepath.Join(node, "containers")
	os.MkdirAll(filepath.Join(pods, "shop_web-7d4f_"+uid, "nginx"), 0o755)
	os.MkdirAll(ctrs, 0o755)
	removeCgroupsMade(t, "kubepods/besteffort/pod"+uid)
	pod := e.startHold(t, "pod", "--cgroup-parent", "/kubepods/besteffort/pod"+uid)
	os.WriteFile(filepath.Join(ctrs, "web-7d4f_shop_nginx-"+pod.id+".log"), nil, 0o644)

	// containerd's socket directory stands in empty: a node without
	// containerd, where serve asks nothing and names pods from the logs.
	ctrd := filepath.Join(node, "containerd")
	os.MkdirAll(ctrd, 0o755)
	args, cmd := e.daemonSetRun(t, map[string]string{"/var/log/pods": pods, "/var/log/containers": ctrs, "/run/containerd": ctrd})
	name := "nsinspect-it-ds-" + strings.TrimPrefix(e.label, "nsinspect.test=")
	run := append([]string{"run", "-d", "--rm", "--label", e.label, "--name", name, "-p", "127.0.0.1::9817"}, args...)
	t.Logf("the DaemonSet as docker run: docker %s %s %s", strings.Join(run, " "), image, strings.Join(cmd, " "))
	id, err := docker(t, append(append(run, image), cmd...)...)
	if id != "" {
		t.Cleanup(func() { docker(t, "rm", "-f", id) })
	}
	if err != nil {
		t.Fatal(err)
	}
	addr := mustDocker(t, "port", id, "9817/tcp")
	s := &served{base: "http://" + strings.Fields(addr)[0]}
	var ms []metricSample
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		status, body := s.tryGet("/metrics")
		if status == 200 {
			ms = parseMetrics(t, string(body))
			if _, ok := sharedFrom(ms)(pod.id, "net"); ok {
				break
			}
		}
		if time.Now().After(deadline) {
			logs, _ := docker(t, "logs", id)
			t.Fatalf("no metrics for the test's containers within 30 s (last status %d); logs:\n%s", status, logs)
		}
	}
	checkShared(t, cs, sharedFrom(ms))
	found := false
	for _, m := range ms {
		if m.name == "nsinspect_container_info" && m.labels["container_id"] == pod.id {
			found = true
			if m.labels["namespace"] != "shop" || m.labels["pod"] != "web-7d4f" || m.labels["container"] != "nginx" || m.labels["pod_uid"] != uid || m.labels["engine"] != "kubernetes" {
				t.Errorf("the pod's container: labels %v", m.labels)
			}
		}
		if m.name == "nsinspect_errors_total" && m.labels["kind"] == "engine_api" && m.value != 0 {
			t.Errorf("%v engine_api errors with no containerd socket: an absent runtime is not an error", m.value)
		}
		if m.name == "nsinspect_scan_success" && m.value != 1 {
			t.Error("nsinspect_scan_success is 0 inside the DaemonSet's container")
		}
	}
	if !found {
		t.Error("no nsinspect_container_info for the pod's container")
	}
	start := time.Now()
	mustDocker(t, "stop", "-t", "5", id)
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("docker stop took %v: serve must stop within a second of SIGTERM", took)
	}
}

// removeCgroupsMade removes, once the test's containers are gone (cleanups
// run last-in first-out, so register it before starting them), the
// directories of the cgroup path rel (and its parents) that did not exist
// in any hierarchy before: the engine makes a --cgroup-parent's directories
// and leaves them behind when the container goes.
func removeCgroupsMade(t *testing.T, rel string) {
	t.Helper()
	roots, _ := filepath.Glob("/sys/fs/cgroup/*")
	roots = append(roots, "/sys/fs/cgroup")
	var made []string
	for _, root := range roots {
		var parts []string
		for _, c := range strings.Split(rel, "/") {
			parts = append(parts, c)
			d := filepath.Join(root, filepath.Join(parts...))
			if _, err := os.Stat(d); os.IsNotExist(err) {
				made = append(made, d)
			}
		}
	}
	t.Cleanup(func() {
		for i := len(made) - 1; i >= 0; i-- {
			if err := os.Remove(made[i]); err != nil && !os.IsNotExist(err) {
				t.Errorf("removing the cgroup %s the engine made for this test: %v", made[i], err)
			}
		}
	})
}
