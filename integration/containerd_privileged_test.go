package integration

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/posture"
)

// podAuditJSON is one target of audit --json of a pod container: its
// container and pod, and the kernel's facts.
type podAuditJSON struct {
	Targets []struct {
		Target struct {
			PID       int               `json:"pid"`
			Container *ctrContainerJSON `json:"container"`
		} `json:"target"`
		Facts posture.Facts `json:"facts"`
		Notes []string      `json:"notes"`
	} `json:"targets"`
}

// auditPodTarget audits one target (containerd:k8s.io/ID or a PID),
// wants exit 0 and one target, and returns its container and facts.
func auditPodTarget(t *testing.T, target, sockFlag string) (*ctrContainerJSON, *posture.Facts, int) {
	t.Helper()
	var a podAuditJSON
	decodeRun(t, &a, "audit", target, "--json", sockFlag)
	if len(a.Targets) != 1 {
		t.Fatalf("audit %s: %d targets", target, len(a.Targets))
	}
	return a.Targets[0].Target.Container, &a.Targets[0].Facts, a.Targets[0].Target.PID
}

// statusCaps is the capability set a /proc/PID/status line (CapEff,
// CapBnd) names, as CAP_NAME, sorted.
func statusCaps(t *testing.T, pid int, field string) []string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), field+":")
		if !ok {
			continue
		}
		mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		if err != nil {
			t.Fatal(err)
		}
		var caps []string
		for i, name := range capNames {
			if mask&(1<<i) != 0 {
				caps = append(caps, "CAP_"+name)
			}
		}
		if mask>>len(capNames) != 0 {
			t.Fatalf("/proc/%d/status %s %s has capabilities beyond CAP_%s", pid, field, v, capNames[len(capNames)-1])
		}
		return sorted(caps)
	}
	t.Fatalf("/proc/%d/status has no %s", pid, field)
	return nil
}

// mountReadOnly reports whether the mount at path in pid's mount
// namespace (the last one there) is read-only: the mount option ro, or
// the superblock's.
func mountReadOnly(t *testing.T, pid int, path string) bool {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		t.Fatal(err)
	}
	ro, found := false, false
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 5 && f[4] == path {
			ro, found = slices.Contains(strings.Split(f[5], ","), "ro") || slices.Contains(strings.Split(f[len(f)-1], ","), "ro"), true
		}
	}
	if !found {
		t.Fatalf("no mount at %s in /proc/%d/mountinfo", path, pid)
	}
	return ro
}

// statusSeccomp is the kernel's Seccomp: line of /proc/PID/status in
// posture's words.
func statusSeccomp(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Seccomp:"); ok {
			return map[string]string{"0": "disabled", "1": "strict", "2": "filter"}[strings.TrimSpace(v)]
		}
	}
	t.Fatalf("/proc/%d/status has no Seccomp", pid)
	return ""
}

// hostDevice is a device node of the host's /dev a privileged container
// gets and a default one does not.
type hostDevice struct {
	path         string
	major, minor uint32
}

// hostOnlyDevices are those of /dev/kmsg and /dev/loop0 that the host has.
func hostOnlyDevices(t *testing.T) []hostDevice {
	var out []hostDevice
	for _, p := range []string{"/dev/kmsg", "/dev/loop0"} {
		var st unix.Stat_t
		if unix.Stat(p, &st) == nil && st.Mode&(unix.S_IFCHR|unix.S_IFBLK) != 0 {
			out = append(out, hostDevice{p, unix.Major(st.Rdev), unix.Minor(st.Rdev)})
		}
	}
	if len(out) == 0 {
		t.Fatalf("the host has neither /dev/kmsg nor /dev/loop0 to tell a privileged container's devices by")
	}
	return out
}

func deviceNode(f *posture.Facts, d hostDevice) bool {
	for _, n := range f.Devices.Nodes {
		if n.Path == d.path && n.Major == d.major && n.Minor == d.minor {
			return true
		}
	}
	return false
}

// testPrivilegedPod: a privileged container in a privileged sandbox, as
// CRI makes it (containerd 1.6: every capability containerd itself has,
// no seccomp, no masked or read-only /proc paths, the host's devices),
// audited by containerd:k8s.io/ID and by its PID, against what the
// non-privileged container plainID (of pod nsi-team/web) reports.
func testPrivilegedPod(t *testing.T, cd *ownContainerd, plainID string, plainPID int) {
	sockFlag := "--containerd-socket=" + cd.sock
	p := cd.runPod(t, "nsi-ops", "root-tools", podOptions{privileged: true})
	id, pid := cd.startContainer(t, p, "admin")

	c, f, gotPID := auditPodTarget(t, "containerd:k8s.io/"+id, sockFlag)
	if gotPID != pid {
		t.Errorf("containerd:k8s.io/%s is pid %d, CRI says %d", id, gotPID, pid)
	}
	if c == nil || c.Engine != "containerd" || c.ID != id || c.Name != "admin" || c.Pod.Namespace != "nsi-ops" ||
		c.Pod.Name != "root-tools" || c.Pod.UID != p.uid || c.Pod.Container != "admin" || c.Pod.Sandbox || c.Pod.HostNetwork {
		t.Errorf("container %+v; want containerd %s, container admin of pod nsi-ops/root-tools uid %s", c, id, p.uid)
	}
	_, plain, _ := auditPodTarget(t, "containerd:k8s.io/"+plainID, sockFlag)

	// Capabilities: CRI gives a privileged container those containerd
	// has (oci.WithAllCurrentCapabilities), not every one the kernel
	// knows: where the bounding set lacks CAP_SYS_RESOURCE, so does the
	// container. The plain one has CRI's default set.
	ctrdPID := cd.cmd.Process.Pid
	want := statusCaps(t, ctrdPID, "CapEff")
	for _, set := range []struct {
		name string
		got  []string
	}{{"effective", f.Capabilities.Effective}, {"permitted", f.Capabilities.Permitted}, {"bounding", f.Capabilities.Bounding}} {
		if !slices.Equal(sorted(set.got), want) {
			t.Errorf("privileged: %s %v, want containerd's own %v", set.name, set.got, want)
		}
	}
	if !slices.Contains(f.Capabilities.Effective, "CAP_SYS_ADMIN") {
		t.Errorf("privileged: no CAP_SYS_ADMIN in %v", f.Capabilities.Effective)
	}
	if slices.Contains(want, "CAP_SYS_RESOURCE") != slices.Contains(f.Capabilities.Effective, "CAP_SYS_RESOURCE") {
		t.Errorf("privileged: CAP_SYS_RESOURCE in %v, containerd has %v", f.Capabilities.Effective, want)
	}
	if got := statusCaps(t, pid, "CapEff"); !slices.Equal(sorted(f.Capabilities.Effective), got) {
		t.Errorf("privileged: audit says effective %v, the kernel %v", f.Capabilities.Effective, got)
	}
	if !slices.Equal(sorted(plain.Capabilities.Effective), dockerDefaultCaps) {
		t.Errorf("plain: effective %v, want CRI's default %v", plain.Capabilities.Effective, dockerDefaultCaps)
	}
	if len(plain.Capabilities.Effective) >= len(f.Capabilities.Effective) {
		t.Errorf("plain has %d capabilities, privileged %d", len(plain.Capabilities.Effective), len(f.Capabilities.Effective))
	}

	// Seccomp: none for the privileged one; the plain one's is what the
	// kernel says (no profile asked for: CRI 1.6 leaves it unconfined).
	if f.Seccomp.Mode != "disabled" || statusSeccomp(t, pid) != "disabled" {
		t.Errorf("privileged: seccomp %+v (kernel: %s), want disabled", f.Seccomp, statusSeccomp(t, pid))
	}
	if k := statusSeccomp(t, plainPID); plain.Seccomp.Mode != k {
		t.Errorf("plain: seccomp %+v, the kernel says %s", plain.Seccomp, k)
	}
	if f.NoNewPrivs.Value || plain.NoNewPrivs.Value {
		t.Errorf("no_new_privs privileged %v plain %v, want unset in both", f.NoNewPrivs.Value, plain.NoNewPrivs.Value)
	}

	// Masked and read-only paths: none for the privileged one; the
	// plain one has runc's defaults, of those this kernel has.
	// /sys: CRI mounts it rw for a privileged container, but sysfs has
	// one superblock per network namespace and the pod's sandbox
	// mounted it first, read-only: the superblock is ro, and so is the
	// container's /sys. audit must say what the mount table says.
	if len(f.MaskedPaths.Paths) != 0 {
		t.Errorf("privileged: masked %v, want none", pathsOf(f.MaskedPaths))
	}
	for _, p := range pathsOf(f.ReadonlyPaths) {
		if strings.HasPrefix(p, "/proc") {
			t.Errorf("privileged: %s read-only", p)
		}
	}
	if ro := mountReadOnly(t, pid, "/sys"); ro != slices.Contains(pathsOf(f.ReadonlyPaths), "/sys") {
		t.Errorf("privileged: read-only paths %+v; the mount table says /sys is read-only: %v", f.ReadonlyPaths, ro)
	}
	for _, p := range []string{"/proc/keys", "/proc/timer_list"} {
		if _, err := os.Stat(p); err == nil && !slices.Contains(pathsOf(plain.MaskedPaths), p) {
			t.Errorf("plain: %s not among the masked paths %v", p, pathsOf(plain.MaskedPaths))
		}
	}
	if !slices.Contains(pathsOf(plain.ReadonlyPaths), "/proc/sys") {
		t.Errorf("plain: /proc/sys not among the read-only paths %v", pathsOf(plain.ReadonlyPaths))
	}

	// Devices: the host's, for the privileged one only.
	for _, d := range hostOnlyDevices(t) {
		if !deviceNode(f, d) {
			t.Errorf("privileged: no %s %d:%d among %+v", d.path, d.major, d.minor, f.Devices.Nodes)
		}
		if deviceNode(plain, d) {
			t.Errorf("plain: has the host's %s", d.path)
		}
	}
	if len(f.Devices.Nodes) <= len(plain.Devices.Nodes) {
		t.Errorf("privileged has %d device nodes, plain %d", len(f.Devices.Nodes), len(plain.Devices.Nodes))
	}

	// Both are root in the host's user namespace: privileged is not a
	// user namespace, and neither has one.
	for name, g := range map[string]*posture.Facts{"privileged": f, "plain": plain} {
		if !g.UIDMap.Identity || !g.UIDMap.RootIsHostRoot {
			t.Errorf("%s: uid_map %+v, want the host's own", name, g.UIDMap)
		}
	}

	// The PID form: recognised from its cgroup, the same pod, the same
	// facts.
	bc, bf, _ := auditPodTarget(t, strconv.Itoa(pid), sockFlag)
	if bc == nil || bc.ID != id || bc.Via != "cgroup" || bc.Pod.Namespace != "nsi-ops" || bc.Pod.Name != "root-tools" || bc.Pod.Container != "admin" {
		t.Errorf("audit %d: container %+v, want %s of pod nsi-ops/root-tools from its cgroup", pid, bc, id)
	}
	if !slices.Equal(bf.Capabilities.Effective, f.Capabilities.Effective) || bf.Seccomp.Mode != f.Seccomp.Mode {
		t.Errorf("audit %d and audit containerd:k8s.io/%s disagree: %v %s, %v %s", pid, id,
			bf.Capabilities.Effective, bf.Seccomp.Mode, f.Capabilities.Effective, f.Seccomp.Mode)
	}
	t.Logf("privileged: effective %d capabilities (containerd's %d), seccomp %s, %d masked, %d read-only paths, %d device nodes; plain: %d capabilities, seccomp %s, %d masked, %d read-only, %d device nodes",
		len(f.Capabilities.Effective), len(want), f.Seccomp.Mode, len(f.MaskedPaths.Paths), len(f.ReadonlyPaths.Paths), len(f.Devices.Nodes),
		len(plain.Capabilities.Effective), plain.Seccomp.Mode, len(plain.MaskedPaths.Paths), len(plain.ReadonlyPaths.Paths), len(plain.Devices.Nodes))
}

// testStoppedContainerd: a containerd that accepts the connection and
// never answers (SIGSTOPped) makes a containerd: target undecided
// (exit 5, one line), for show and audit alike; containerd is
// continued at the end, also on failure.
func testStoppedContainerd(t *testing.T, cd *ownContainerd, id string) {
	sockFlag := "--containerd-socket=" + cd.sock
	ctrdPID := cd.cmd.Process.Pid
	cont := func() { syscall.Kill(ctrdPID, syscall.SIGCONT) }
	t.Cleanup(cont)
	must(t, syscall.Kill(ctrdPID, syscall.SIGSTOP))
	for _, cmd := range []string{"show", "audit"} {
		r := nsinspect(t, cmd, "containerd:k8s.io/"+id, sockFlag)
		checkOneLineError(t, r, 5, cmd+" with containerd stopped")
		t.Logf("%s: %s", cmd, strings.TrimSpace(r.stderr))
		if !strings.Contains(r.stderr, "containerd at "+cd.sock) {
			t.Errorf("%s: stderr %q does not say whom it asked", cmd, r.stderr)
		}
		if cmd == "show" && strings.Contains(r.stderr, "--engine-timeout") {
			t.Errorf("show: stderr %q names a flag show does not have", r.stderr)
		}
		if r.stdout != "" {
			t.Errorf("%s: stdout %q with containerd stopped", cmd, r.stdout)
		}
	}
	cont()
	// Continued, it answers again.
	var s struct {
		PID int `json:"pid"`
	}
	decodeRun(t, &s, "show", "containerd:k8s.io/"+id, "--json", sockFlag)
	if s.PID <= 0 {
		t.Errorf("containerd continued: pid %d", s.PID)
	}
}
