package integration

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/posture"
)

// declared is the engine's declaration in `audit --json`.
type declared struct {
	NetworkMode    string   `json:"network_mode"`
	PidMode        string   `json:"pid_mode"`
	IpcMode        string   `json:"ipc_mode"`
	UTSMode        string   `json:"uts_mode"`
	UsernsMode     string   `json:"userns_mode"`
	CgroupnsMode   string   `json:"cgroupns_mode"`
	Privileged     bool     `json:"privileged"`
	ReadonlyRootfs bool     `json:"readonly_rootfs"`
	CapAdd         []string `json:"cap_add"`
	CapDrop        []string `json:"cap_drop"`
	SecurityOpt    []string `json:"security_opt"`
	Binds          []string `json:"binds"`
	Devices        []string `json:"devices"`
}

// auditOut is `audit --json`, decoded.
type auditOut struct {
	Targets []struct {
		Target struct {
			Arg       string
			PID       int
			Container *struct{ Engine, ID, Name string }
			Image     string
			Labels    map[string]string
			Declared  *declared
		}
		Reference struct {
			PID int
			Why string
		}
		Facts   posture.Facts
		Members []struct {
			PID     int
			Differs map[string]struct {
				NS uint64 `json:"ns"`
			}
		}
		Notes []string
	}
	Policy *struct {
		Violations []json.RawMessage
	}
}

func audit(t *testing.T, args ...string) auditOut {
	t.Helper()
	r := nsinspect(t, append([]string{"audit", "--json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("audit %v: exit %d\nstderr: %s", args, r.code, r.stderr)
	}
	var out auditOut
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("audit %v: %v\n%s", args, err, r.stdout)
	}
	if len(out.Targets) != countTargets(args) {
		t.Fatalf("audit %v: %d targets", args, len(out.Targets))
	}
	return out
}

// countTargets is how many TARGET arguments args has: those that are
// neither a flag nor the value of one.
func countTargets(args []string) int {
	n := 0
	for i := 0; i < len(args); i++ {
		switch {
		case args[i] == "--against" || args[i] == "--policy" || args[i] == "--junit" || args[i] == "--engine-timeout":
			i++
		case !strings.HasPrefix(args[i], "-"):
			n++
		}
	}
	return n
}

// dockerDefaultCaps is the capability set Docker gives a container unless
// told otherwise (moby's oci/caps/defaults.go).
var dockerDefaultCaps = strings.Fields(`CAP_AUDIT_WRITE CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_FSETID
	CAP_KILL CAP_MKNOD CAP_NET_BIND_SERVICE CAP_NET_RAW CAP_SETFCAP CAP_SETGID CAP_SETPCAP CAP_SETUID CAP_SYS_CHROOT`)

// auditCase is one docker run setting and what it must change in the
// facts of a default container.
type auditCase struct {
	name  string
	flags []string
	check func(t *testing.T, e *engine, f *posture.Facts)
}

func pathsOf(l posture.PathList) []string {
	var out []string
	for _, p := range l.Paths {
		out = append(out, p.Path)
	}
	return out
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

// checkDefaultPosture is what Docker's defaults give, fact by fact.
func checkDefaultPosture(t *testing.T, f *posture.Facts, exceptCaps, exceptSeccomp, exceptMasked bool) {
	t.Helper()
	if !exceptCaps && !slices.Equal(sorted(f.Capabilities.Effective), dockerDefaultCaps) {
		t.Errorf("effective capabilities %v, want Docker's default %v", f.Capabilities.Effective, dockerDefaultCaps)
	}
	if !exceptSeccomp && (f.Seccomp.Mode != "filter" || f.Seccomp.Filters < 1) {
		t.Errorf("seccomp %+v, want Docker's default profile (filter)", f.Seccomp)
	}
	if !exceptMasked {
		// runc masks only what exists (this VM's kernel has no
		// /proc/kcore).
		for _, p := range []string{"/proc/kcore", "/proc/keys", "/proc/timer_list"} {
			if _, err := os.Stat(p); err != nil {
				continue
			}
			if !slices.Contains(pathsOf(f.MaskedPaths), p) {
				t.Errorf("%s not among the masked paths %v", p, pathsOf(f.MaskedPaths))
			}
		}
		for _, p := range []string{"/proc/sys", "/proc/sysrq-trigger"} {
			if _, err := os.Stat(p); err != nil {
				continue // no CONFIG_MAGIC_SYSRQ here
			}
			if !slices.Contains(pathsOf(f.ReadonlyPaths), p) {
				t.Errorf("%s not among the read-only paths %v", p, pathsOf(f.ReadonlyPaths))
			}
		}
	}
	for _, e := range f.Capabilities.Evidence {
		if !strings.HasPrefix(e.File, "/proc/") || e.Line == 0 {
			t.Errorf("capability evidence %+v does not name a /proc line", e)
		}
	}
}

// TestAuditDocker audits a container per docker run setting that changes
// posture and checks each verdict against the setting: the setting's own
// fact changes as it says, and the other facts stay Docker's defaults.
func TestAuditDocker(t *testing.T) {
	e := requireEngine(t)
	t.Log(e.info)
	before := snapshot(t, e)
	t.Cleanup(func() { checkNoLeaks(t, e, before) })
	cases := []auditCase{
		{"default", nil, func(t *testing.T, e *engine, f *posture.Facts) {
			checkDefaultPosture(t, f, false, false, false)
			if f.NoNewPrivs.Value {
				t.Errorf("no_new_privs set without --security-opt no-new-privileges")
			}
			if len(f.SensitiveMounts.Mounts) != 0 {
				t.Errorf("sensitive mounts in a default container: %+v", f.SensitiveMounts.Mounts)
			}
			if slices.Contains(pathsOf(f.ReadonlyPaths), "/") {
				t.Errorf("/ read-only without --read-only")
			}
			if hasDevice(f, "/dev/fuse") {
				t.Errorf("/dev/fuse without --device")
			}
			if !hasDevice(f, "/dev/null") {
				t.Errorf("no /dev/null among %+v", f.Devices.Nodes)
			}
		}},
		{"cap-drop-all", []string{"--cap-drop", "ALL"}, func(t *testing.T, e *engine, f *posture.Facts) {
			c := f.Capabilities
			if len(c.Effective)+len(c.Permitted)+len(c.Bounding)+len(c.Ambient) != 0 {
				t.Errorf("--cap-drop ALL: capabilities %+v, want none", c)
			}
			checkDefaultPosture(t, f, true, false, false)
		}},
		{"cap-add-net-admin", []string{"--cap-add", "NET_ADMIN"}, func(t *testing.T, e *engine, f *posture.Facts) {
			want := sorted(append(slices.Clone(dockerDefaultCaps), "CAP_NET_ADMIN"))
			if !slices.Equal(sorted(f.Capabilities.Effective), want) {
				t.Errorf("--cap-add NET_ADMIN: effective %v, want %v", f.Capabilities.Effective, want)
			}
			checkDefaultPosture(t, f, true, false, false)
		}},
		{"no-new-privileges", []string{"--security-opt", "no-new-privileges"}, func(t *testing.T, e *engine, f *posture.Facts) {
			if !f.NoNewPrivs.Value || len(f.NoNewPrivs.Evidence) == 0 {
				t.Errorf("no_new_privs %+v, want true with evidence", f.NoNewPrivs)
			}
			checkDefaultPosture(t, f, false, false, false)
		}},
		{"seccomp-unconfined", []string{"--security-opt", "seccomp=unconfined"}, func(t *testing.T, e *engine, f *posture.Facts) {
			if f.Seccomp.Mode != "disabled" || f.Seccomp.Filters > 0 {
				t.Errorf("seccomp=unconfined: %+v, want disabled", f.Seccomp)
			}
			checkDefaultPosture(t, f, false, true, false)
		}},
		{"read-only", []string{"--read-only"}, func(t *testing.T, e *engine, f *posture.Facts) {
			if !slices.Contains(pathsOf(f.ReadonlyPaths), "/") {
				t.Errorf("--read-only: / not among the read-only paths %v", pathsOf(f.ReadonlyPaths))
			}
			checkDefaultPosture(t, f, false, false, false)
		}},
		{"docker-socket", []string{"-v", "/var/run/docker.sock:/var/run/docker.sock"}, func(t *testing.T, e *engine, f *posture.Facts) {
			var found *posture.SensitiveMount
			for i, m := range f.SensitiveMounts.Mounts {
				if m.Kind == "docker-socket" {
					found = &f.SensitiveMounts.Mounts[i]
				}
			}
			if found == nil {
				t.Fatalf("docker.sock mounted in: sensitive mounts %+v", f.SensitiveMounts)
			}
			host, _ := filepath.EvalSymlinks("/var/run/docker.sock")
			if found.Path != "/var/run/docker.sock" || (found.Source != "/var/run/docker.sock" && found.Source != host) || !found.ReadWrite {
				t.Errorf("docker socket mount %+v, want /var/run/docker.sock from the host's %s, read-write", found, host)
			}
			if found.Evidence.Line == 0 || !strings.Contains(found.Evidence.Text, "docker.sock") {
				t.Errorf("docker socket mount evidence %+v does not quote the mountinfo line", found.Evidence)
			}
			checkDefaultPosture(t, f, false, false, false)
		}},
		{"device-fuse", []string{"--device", "/dev/fuse"}, func(t *testing.T, e *engine, f *posture.Facts) {
			var st struct{ major, minor uint32 }
			var raw unix.Stat_t
			if err := unix.Stat("/dev/fuse", &raw); err != nil {
				t.Fatal(err)
			}
			st.major, st.minor = unix.Major(raw.Rdev), unix.Minor(raw.Rdev)
			ok := false
			for _, d := range f.Devices.Nodes {
				if d.Path == "/dev/fuse" && d.Type == "c" && d.Major == st.major && d.Minor == st.minor {
					ok = true
				}
			}
			if !ok {
				t.Errorf("--device /dev/fuse: no /dev/fuse c %d:%d among %+v", st.major, st.minor, f.Devices.Nodes)
			}
			checkDefaultPosture(t, f, false, false, false)
		}},
		{"privileged", nil, func(t *testing.T, e *engine, f *posture.Facts) {
			if !slices.Contains(f.Capabilities.Effective, "CAP_SYS_ADMIN") || len(f.Capabilities.Effective) < 30 {
				t.Errorf("%v: effective %v, want (nearly) every capability", e.privileged, f.Capabilities.Effective)
			}
			if f.Seccomp.Mode != "disabled" {
				t.Errorf("%v: seccomp %+v, want disabled", e.privileged, f.Seccomp)
			}
			if slices.Contains(pathsOf(f.MaskedPaths), "/proc/keys") {
				t.Errorf("%v: /proc/keys still masked", e.privileged)
			}
		}},
		{"userns-host", []string{"--userns", "host"}, func(t *testing.T, e *engine, f *posture.Facts) {
			if !f.UIDMap.RootIsHostRoot || !f.UIDMap.Identity || !f.GIDMap.RootIsHostRoot {
				t.Errorf("--userns host: uid_map %+v gid_map %+v, want the host's own", f.UIDMap, f.GIDMap)
			}
			if u := f.Namespaces["user"]; !u.Shared || !u.Proven {
				t.Errorf("--userns host: user namespace %+v, want shared", u)
			}
			checkDefaultPosture(t, f, false, false, false)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			flags := tc.flags
			if tc.name == "privileged" {
				flags = e.privileged
			}
			c := e.startHold(t, "audit-"+tc.name, flags...)
			out := audit(t, "docker:"+c.name)
			a := out.Targets[0]
			if a.Target.PID != c.pid || a.Target.Container == nil || a.Target.Container.ID != c.id || a.Target.Container.Name != c.name {
				t.Fatalf("docker:%s resolved to %+v (container %+v), want pid %d, id %s", c.name, a.Target, a.Target.Container, c.pid, c.id)
			}
			// The namespaces, against what Docker promises (the same
			// table TestDocker checks compare with).
			want := expectedSharing(t, e, c, isolationCase{name: tc.name, flags: tc.flags})
			if tc.name == "userns-host" {
				want["user"] = "shared"
			}
			for link, w := range want {
				ns := a.Facts.Namespaces[link]
				if got := map[bool]string{true: "shared", false: "separate"}[ns.Shared]; got != w || !ns.Proven {
					t.Errorf("%s: %s (proven %v), want %s: %+v", link, got, ns.Proven, w, ns)
				}
				if len(ns.Evidence) == 0 {
					t.Errorf("%s: no evidence", link)
				}
			}
			tc.check(t, e, &a.Facts)
			// The PID form gives the same facts about the same container.
			byPID := audit(t, strconv.Itoa(c.pid)).Targets[0]
			if byPID.Target.Container == nil || byPID.Target.Container.ID != c.id {
				t.Errorf("audit %d: container %+v, want %s", c.pid, byPID.Target.Container, c.id)
			}
			if fmt.Sprint(byPID.Facts.Capabilities.Effective) != fmt.Sprint(a.Facts.Capabilities.Effective) {
				t.Errorf("audit %d and audit docker:%s disagree on capabilities", c.pid, c.name)
			}
		})
	}
}

func hasDevice(f *posture.Facts, path string) bool {
	for _, d := range f.Devices.Nodes {
		if d.Path == path {
			return true
		}
	}
	return false
}

// TestAuditDeclarationVsTruth: a container Docker declares isolated, in
// which a process joins the host's net namespace after start (nsenter
// into its other namespaces, then into its cgroup, as a runtime helper
// would). docker inspect still says bridge; audit says net is shared,
// naming that process. And the reverse: for a container left alone, the
// declaration and the kernel agree on every declared setting.
func TestAuditDeclarationVsTruth(t *testing.T) {
	e := requireEngine(t)
	before := snapshot(t, e)
	t.Cleanup(func() { checkNoLeaks(t, e, before) })
	nsenter := requireNsenter(t)

	t.Run("agree", func(t *testing.T) {
		t.Parallel()
		// Every setting a default container declares, and more: each
		// declared one is checked against the kernel's fact.
		c := e.startHold(t, "declared", "--cap-add", "NET_ADMIN", "--cap-drop", "CHOWN",
			"--security-opt", "no-new-privileges", "--read-only",
			"-v", "/var/run/docker.sock:/var/run/docker.sock", "--device", "/dev/fuse")
		a := audit(t, "docker:"+c.name).Targets[0]
		d := a.Target.Declared
		if d == nil {
			t.Fatal("no declaration from the engine")
		}
		t.Logf("declared: %+v", *d)
		f := a.Facts
		// Each declared mode against the kernel: "host" means shared,
		// any other mode (private, shareable, the default "") separate;
		// cgroup's default follows the engine's cgroupns mode.
		for _, m := range []struct{ link, mode string }{
			{"net", d.NetworkMode}, {"pid", d.PidMode}, {"ipc", d.IpcMode}, {"uts", d.UTSMode}, {"cgroup", d.CgroupnsMode},
		} {
			if m.link == "cgroup" && m.mode == "" {
				t.Errorf("the engine declares no cgroupns mode")
			}
			if declaredShared := m.mode == "host"; f.Namespaces[m.link].Shared != declaredShared {
				t.Errorf("%s: declared mode %q, kernel says shared=%v", m.link, m.mode, f.Namespaces[m.link].Shared)
			}
		}
		if declaredUser := d.UsernsMode == "host" || !e.usernsRemap; f.Namespaces["user"].Shared != declaredUser {
			t.Errorf("user: declared %q (remap %v), kernel says shared=%v", d.UsernsMode, e.usernsRemap, f.Namespaces["user"].Shared)
		}
		// Capabilities: Docker's default set, plus CapAdd, less CapDrop.
		want := map[string]bool{}
		for _, c := range dockerDefaultCaps {
			want[c] = true
		}
		for _, c := range d.CapAdd {
			want[c] = true
		}
		for _, c := range d.CapDrop {
			delete(want, c)
		}
		if !slices.Equal(sorted(f.Capabilities.Effective), sorted(slices.Collect(maps.Keys(want)))) {
			t.Errorf("declared cap_add %v cap_drop %v: effective %v", d.CapAdd, d.CapDrop, f.Capabilities.Effective)
		}
		if !slices.Contains(d.CapAdd, "CAP_NET_ADMIN") || !slices.Contains(d.CapDrop, "CAP_CHOWN") {
			t.Errorf("declaration lacks what was asked: cap_add %v cap_drop %v", d.CapAdd, d.CapDrop)
		}
		if nnp := slices.Contains(d.SecurityOpt, "no-new-privileges") || slices.Contains(d.SecurityOpt, "no-new-privileges:true"); nnp != f.NoNewPrivs.Value {
			t.Errorf("declared security options %v, no_new_privs %v", d.SecurityOpt, f.NoNewPrivs.Value)
		}
		if d.ReadonlyRootfs != slices.Contains(pathsOf(f.ReadonlyPaths), "/") || !d.ReadonlyRootfs {
			t.Errorf("declared read-only rootfs %v, kernel's read-only paths %v", d.ReadonlyRootfs, pathsOf(f.ReadonlyPaths))
		}
		if d.Privileged != (f.Seccomp.Mode == "disabled") {
			t.Errorf("declared privileged %v, seccomp %s", d.Privileged, f.Seccomp.Mode)
		}
		sockDeclared := slices.ContainsFunc(d.Binds, func(b string) bool { return strings.Contains(b, "docker.sock") })
		sockMounted := slices.ContainsFunc(f.SensitiveMounts.Mounts, func(m posture.SensitiveMount) bool { return m.Kind == "docker-socket" })
		if !sockDeclared || !sockMounted {
			t.Errorf("declared binds %v, sensitive mounts %+v", d.Binds, f.SensitiveMounts.Mounts)
		}
		fuseDeclared := slices.ContainsFunc(d.Devices, func(dev string) bool { return strings.HasPrefix(dev, "/dev/fuse") })
		if !fuseDeclared || !hasDevice(&f, "/dev/fuse") {
			t.Errorf("declared devices %v, /dev/fuse present %v", d.Devices, hasDevice(&f, "/dev/fuse"))
		}
		if len(a.Members) != 0 {
			t.Errorf("members out of the init's namespaces in a container left alone: %+v", a.Members)
		}
	})
	t.Run("joined-host-net", func(t *testing.T) {
		t.Parallel()
		c := e.startHold(t, "joined")
		pid := joinContainerButNet(t, nsenter, c)
		if mode := mustDocker(t, "inspect", "-f", "{{.HostConfig.NetworkMode}}", c.id); mode == "host" {
			t.Fatalf("the engine declares network mode %q", mode)
		}
		a := audit(t, "docker:"+c.name).Targets[0]
		net := a.Facts.Namespaces["net"]
		if !net.Shared || !net.Proven || !strings.Contains(net.Why, strconv.Itoa(pid)) {
			t.Errorf("net after pid %d joined the host's: %+v, want shared naming that pid", pid, net)
		}
		found := false
		for _, ev := range net.Evidence {
			found = found || strings.Contains(ev.Call, fmt.Sprintf("/proc/%d/ns/net", pid))
		}
		if !found {
			t.Errorf("net evidence %+v does not cite /proc/%d/ns/net", net.Evidence, pid)
		}
		if len(a.Members) != 1 || a.Members[0].PID != pid || a.Members[0].Differs["net"].NS == 0 {
			t.Errorf("members %+v, want pid %d differing in net", a.Members, pid)
		}
		for _, l := range []string{"pid", "ipc", "uts", "mnt"} {
			if a.Facts.Namespaces[l].Shared {
				t.Errorf("%s shared: the joined process entered the container's %s namespace", l, l)
			}
		}
		// The policy sees it too: exit 1, one line naming net.
		pol := writePolicy(t, `version: 1
rules:
  - name: isolated-net
    match: {engine: docker}
    expect:
      namespaces: {separate: [net]}
`)
		r := nsinspect(t, "audit", "docker:"+c.name, "--policy", pol)
		if r.code != 1 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || !strings.Contains(r.stderr, "net") {
			t.Errorf("policy on a container with a host-net member: exit %d, stderr %q; want 1 with one line naming net", r.code, r.stderr)
		}
	})
}

func requireNsenter(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("nsenter")
	if err != nil {
		t.Fatalf("nsenter is not installed (util-linux): %v", err)
	}
	return p
}

// joinContainerButNet starts `/nsinspect hold` in the container's mount,
// pid, ipc and uts namespaces but the host's net namespace, moves it into
// the container's cgroups, and returns its host PID. It dies with the
// container's pid namespace.
func joinContainerButNet(t *testing.T, nsenter string, c container) int {
	t.Helper()
	cmd := testutil.Command(t, testutil.Held, nsenter, "-t", strconv.Itoa(c.pid), "-m", "-p", "-i", "-u", "--", "/nsinspect", "hold")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// nsenter -p forks: hold is its child.
	var pid int
	for deadline := time.Now().Add(10 * time.Second); pid == 0; time.Sleep(20 * time.Millisecond) {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
		if f := strings.Fields(string(b)); len(f) > 0 {
			pid, _ = strconv.Atoi(f[0])
		}
		if time.Now().After(deadline) {
			t.Fatal("nsenter did not start hold")
		}
	}
	t.Cleanup(func() { unix.Kill(pid, unix.SIGKILL) })
	moveIntoCgroups(t, c.pid, pid)
	return pid
}

// moveIntoCgroups writes pid into every cgroup the container's init is
// in, as docker exec's runc does.
func moveIntoCgroups(t *testing.T, initPID, pid int) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", initPID))
	if err != nil {
		t.Fatal(err)
	}
	moved := 0
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		dir := "/sys/fs/cgroup" // v2
		if f[0] != "0" {
			ctrl := strings.TrimPrefix(f[1], "name=")
			dir = filepath.Join("/sys/fs/cgroup", ctrl)
		}
		procs := filepath.Join(dir, f[2], "cgroup.procs")
		if _, err := os.Stat(procs); err != nil {
			continue
		}
		if err := os.WriteFile(procs, []byte(strconv.Itoa(pid)), 0); err != nil {
			t.Fatalf("moving pid %d into %s: %v", pid, procs, err)
		}
		moved++
	}
	if moved == 0 {
		t.Fatalf("no cgroup of pid %d found under /sys/fs/cgroup", initPID)
	}
}

func writePolicy(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// junitReport is the part of JUnit XML that CI systems read.
type junitReport struct {
	XMLName xml.Name `xml:"testsuites"`
	Suites  []struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Cases    []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Failures  []struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Skipped *struct{} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// TestAuditPolicyJUnit checks a policy against two containers: exit 1
// with one stderr line per violation, and a JUnit file with a testcase per
// rule and target, a failure per violation.
func TestAuditPolicyJUnit(t *testing.T) {
	e := requireEngine(t)
	before := snapshot(t, e)
	t.Cleanup(func() { checkNoLeaks(t, e, before) })
	plain := e.startHold(t, "policy-plain")
	sock := e.startHold(t, "policy-sock", "-v", "/var/run/docker.sock:/var/run/docker.sock", "--cap-add", "SYS_ADMIN")
	pol := writePolicy(t, `version: 1
rules:
  - name: isolated
    match: {engine: docker, name: "nsinspect-it-policy-*"}
    expect:
      namespaces: {separate: [net, pid, ipc, uts, mnt]}
      capabilities: {absent: [CAP_SYS_ADMIN]}
      seccomp: filter
      sensitive_mounts: none
      masked_paths: [/proc/keys]
  - name: no-new-privs
    match: {labels: {`+strings.Replace(e.label, "=", ": ", 1)+`}}
    expect:
      no_new_privs: true
  - name: nothing-matches
    match: {name: "no-such-container-*"}
    expect:
      seccomp: filter
`)
	junit := filepath.Join(t.TempDir(), "audit.xml")
	r := nsinspect(t, "audit", "docker:"+plain.name, "docker:"+sock.name, "--policy", pol, "--junit", junit)
	// Violations: sock's socket and CAP_SYS_ADMIN in the effective and
	// the bounding set (isolated), and no_new_privs on both.
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if r.code != 1 || len(lines) != 5 {
		t.Fatalf("exit %d, %d stderr lines, want 1 and 5:\n%s", r.code, len(lines), r.stderr)
	}
	for _, want := range []string{"sensitive_mounts", "CAP_SYS_ADMIN", "no_new_privs"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("no violation names %s:\n%s", want, r.stderr)
		}
	}
	b, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var rep junitReport
	if err := xml.Unmarshal(b, &rep); err != nil {
		t.Fatalf("the JUnit file does not parse: %v\n%s", err, b)
	}
	cases, failures, skipped := 0, 0, 0
	for _, s := range rep.Suites {
		for _, c := range s.Cases {
			cases++
			failures += len(c.Failures)
			if c.Skipped != nil {
				skipped++
			}
			for _, f := range c.Failures {
				if !strings.Contains(f.Text, "evidence") && !strings.Contains(f.Text, "/proc/") {
					t.Errorf("failure %q carries no evidence: %q", f.Message, f.Text)
				}
			}
		}
	}
	// Two rules times two targets, and the rule that matched nothing.
	if cases != 5 || failures != 5 || skipped != 1 {
		t.Errorf("JUnit: %d testcases, %d failures, %d skipped; want 5, 5, 1\n%s", cases, failures, skipped, b)
	}
	// A policy that holds: exit 0, nothing on stderr.
	ok := writePolicy(t, `version: 1
rules:
  - name: isolated
    match: {name: "`+plain.name+`"}
    expect:
      namespaces: {separate: [net, pid]}
      seccomp: filter
`)
	if r := nsinspect(t, "audit", "docker:"+plain.name, "--policy", ok); r.code != 0 || r.stderr != "" {
		t.Errorf("a policy that holds: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestAuditDockerBadInput: an unknown container, an absent engine socket
// (for a name: exit 5, it could not be asked; for a PID: recognised from
// its cgroup, with a note), a malformed policy and an unknown fact each get one line.
func TestAuditDockerBadInput(t *testing.T) {
	e := requireEngine(t)
	before := snapshot(t, e)
	t.Cleanup(func() { checkNoLeaks(t, e, before) })
	c := e.startHold(t, "audit-bad")

	r := nsinspect(t, "audit", "docker:no-such-container-"+strconv.Itoa(os.Getpid()))
	checkOneLineError(t, r, 2, "unknown container")
	if !strings.Contains(r.stderr, "no-such-container") || !strings.Contains(r.stderr, "docker") {
		t.Errorf("unknown container: %q does not say what was tried", r.stderr)
	}

	absent := "unix://" + filepath.Join(t.TempDir(), "docker.sock")
	cmd := testutil.Command(t, testutil.Quick, binary, "audit", "docker:"+c.name)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+absent)
	r = runCmd(t, cmd)
	// An engine that is not there could not be asked: exit 5.
	checkOneLineError(t, r, 5, "absent engine socket")
	if !strings.Contains(r.stderr, strings.TrimPrefix(absent, "unix://")) {
		t.Errorf("absent socket: %q does not name it", r.stderr)
	}
	cmd = testutil.Command(t, testutil.Quick, binary, "audit", "--json", strconv.Itoa(c.pid))
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+absent)
	r = runCmd(t, cmd)
	var out auditOut
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil || len(out.Targets) != 1 {
		t.Fatalf("audit PID with the socket absent: exit %d, %s", r.code, r.stderr)
	}
	a := out.Targets[0]
	if a.Target.Container == nil || a.Target.Container.ID != c.id || a.Target.Container.Name != "" || len(a.Notes) == 0 {
		t.Errorf("socket absent: container %+v notes %v, want id %s from the cgroup, no name, and a note", a.Target.Container, a.Notes, c.id)
	}

	for _, tc := range []struct{ name, text, want string }{
		{"malformed", "version: 1\nrules:\n  - name: x\n    expect: {seccomp: [filter\n", ":4:"},
		{"unknown-fact", "version: 1\nrules:\n  - name: x\n    expect:\n      seccmp: filter\n", ":5:7:"},
		{"unknown-key", "version: 1\nrules:\n  - name: x\n    matsh: {engine: docker}\n    expect: {seccomp: filter}\n", ":4:5:"},
	} {
		pol := writePolicy(t, tc.text)
		r := nsinspect(t, "audit", "docker:"+c.name, "--policy", pol)
		checkOneLineError(t, r, 2, tc.name+" policy")
		if !strings.Contains(r.stderr, pol+tc.want) {
			t.Errorf("%s policy: %q does not point at %s%s", tc.name, r.stderr, pol, tc.want)
		}
	}
}
