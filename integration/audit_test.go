package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// confineEnv makes the test binary, re-executed, confine itself the way a
// container runtime does and exec sleep: TestAuditConfinedProcess audits
// the result.
const confineEnv = "NSINSPECT_IT_CONFINE"

// confineAndExec runs in a child made with new mount, ipc, uts and net
// namespaces. On one locked thread (prctl and seccomp act on the calling
// thread, and execve keeps that thread's state), it masks the /proc file
// named by $NSINSPECT_IT_CONFINE with
// /dev/null, binds /proc/sys read-only, drops CAP_SYS_ADMIN and
// CAP_NET_RAW from the bounding set, sets no_new_privs, installs two
// allow-all seccomp filters, and execs sleep. A failure exits 97 with the
// reason on stderr.
func confineAndExec() {
	runtime.LockOSThread()
	fail := func(what string, err error) {
		fmt.Fprintf(os.Stderr, "confine: %s: %v\n", what, err)
		os.Exit(97)
	}
	steps := []struct {
		what string
		do   func() error
	}{
		{"make / private", func() error { return unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, "") }},
		{"mask " + os.Getenv(confineEnv), func() error { return unix.Mount("/dev/null", os.Getenv(confineEnv), "", unix.MS_BIND, "") }},
		{"bind /proc/sys", func() error { return unix.Mount("/proc/sys", "/proc/sys", "", unix.MS_BIND|unix.MS_REC, "") }},
		{"remount /proc/sys ro", func() error {
			return unix.Mount("", "/proc/sys", "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, "")
		}},
		{"drop CAP_SYS_ADMIN from the bounding set", func() error { return unix.Prctl(unix.PR_CAPBSET_DROP, unix.CAP_SYS_ADMIN, 0, 0, 0) }},
		{"drop CAP_NET_RAW from the bounding set", func() error { return unix.Prctl(unix.PR_CAPBSET_DROP, unix.CAP_NET_RAW, 0, 0, 0) }},
		{"PR_SET_NO_NEW_PRIVS", func() error { return unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) }},
		{"seccomp filter 1", allowAllFilter},
		{"seccomp filter 2", allowAllFilter},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			fail(s.what, err)
		}
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		fail("finding sleep", err)
	}
	fail("exec sleep", syscall.Exec(sleep, []string{"sleep", "1000"}, os.Environ()))
}

// allowAllFilter installs a one-instruction classic BPF seccomp filter
// that allows every call (SECCOMP_RET_ALLOW).
func allowAllFilter() error {
	insns := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW}}
	prog := unix.SockFprog{Len: uint16(len(insns)), Filter: &insns[0]}
	return unix.Prctl(unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(&prog)), 0, 0)
}

// maskable is the first of the files Docker masks that this kernel has
// (/proc/kcore needs CONFIG_PROC_KCORE, which this VM's kernel lacks).
func maskable(t *testing.T) string {
	for _, p := range []string{"/proc/kcore", "/proc/timer_list", "/proc/keys", "/proc/sched_debug"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("none of /proc/kcore, /proc/timer_list, /proc/keys, /proc/sched_debug exists")
	return ""
}

// startConfined re-executes the test binary as a confined sleep (see
// confineAndExec) with mask masked, and returns its PID once it is sleep.
func startConfined(t *testing.T, mask string) int {
	t.Helper()
	cmd := testutil.Command(t, testutil.Held, "/proc/self/exe")
	cmd.Env = append(os.Environ(), confineEnv+"="+mask)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: unix.CLONE_NEWNS | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS | unix.CLONE_NEWNET,
		Pdeathsig:  syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	testutil.WaitComm(t, cmd.Process.Pid, "sleep")
	return cmd.Process.Pid
}

// TestAuditConfinedProcess audits a process confined as a runtime would
// (no container engine: this runs on every kernel of the matrix) and a
// plain child, and checks each fact against what was done to it.
func TestAuditConfinedProcess(t *testing.T) {
	testutil.RequireRoot(t)
	mask := maskable(t)
	pid := startConfined(t, mask)
	a := audit(t, strconv.Itoa(pid)).Targets[0]
	f := a.Facts
	if a.Target.PID != pid || a.Reference.PID == 0 {
		t.Fatalf("target %+v reference %+v", a.Target, a.Reference)
	}
	for link, want := range map[string]bool{
		"mnt": false, "ipc": false, "uts": false, "net": false,
		"pid": true, "pid_for_children": true, "user": true, "cgroup": true, "time": true, "time_for_children": true,
	} {
		ns, ok := f.Namespaces[link]
		if !ok || ns.Shared != want || !ns.Proven || len(ns.Evidence) == 0 {
			t.Errorf("%s: %+v, want shared=%v, proven, with evidence", link, ns, want)
		}
	}
	if !f.NoNewPrivs.Value {
		t.Errorf("no_new_privs %+v, want true", f.NoNewPrivs)
	}
	if f.Seccomp.Mode != "filter" || f.Seccomp.Filters != 2 {
		t.Errorf("seccomp %+v, want filter with 2 filters", f.Seccomp)
	}
	for _, c := range []string{"CAP_SYS_ADMIN", "CAP_NET_RAW"} {
		if slices.Contains(f.Capabilities.Bounding, c) || slices.Contains(f.Capabilities.Effective, c) {
			t.Errorf("%s dropped from the bounding set, but capabilities are %+v", c, f.Capabilities)
		}
	}
	if !slices.Contains(f.Capabilities.Effective, "CAP_SYS_PTRACE") {
		t.Errorf("root's other capabilities are gone: %v", f.Capabilities.Effective)
	}
	if !slices.Contains(pathsOf(f.MaskedPaths), mask) {
		t.Errorf("%s not among the masked paths %+v", mask, f.MaskedPaths)
	}
	if !slices.Contains(pathsOf(f.ReadonlyPaths), "/proc/sys") {
		t.Errorf("/proc/sys not among the read-only paths %+v", f.ReadonlyPaths)
	}
	if !f.UIDMap.Identity || !f.UIDMap.RootIsHostRoot {
		t.Errorf("uid_map %+v, want the host's identity map", f.UIDMap)
	}
	if !hasDevice(&f, "/dev/null") {
		t.Errorf("no /dev/null among the devices %+v", f.Devices)
	}
	// The cgroup is the one /proc says it is in.
	if f.Cgroup.Err != "" || f.Cgroup.Version == 0 || len(f.Cgroup.Evidence) == 0 {
		t.Errorf("cgroup %+v", f.Cgroup)
	}

	// --against another process: the confined one against itself
	// shares everything.
	self := audit(t, strconv.Itoa(pid), "--against", strconv.Itoa(pid)).Targets[0]
	if self.Reference.PID != pid {
		t.Errorf("--against %d: reference %+v", pid, self.Reference)
	}
	for link, ns := range self.Facts.Namespaces {
		if !ns.Shared || !ns.Proven {
			t.Errorf("audit %d --against itself: %s %+v", pid, link, ns)
		}
	}

	// A plain child of ours: the reference's posture, nothing confined.
	plain := testutil.Start(t, "sleep", "1000")
	p := audit(t, strconv.Itoa(plain.Process.Pid)).Targets[0].Facts
	for link, ns := range p.Namespaces {
		if !ns.Shared {
			t.Errorf("plain child: %s separate: %+v", link, ns)
		}
	}
	if p.NoNewPrivs.Value || p.Seccomp.Mode != "disabled" || len(p.MaskedPaths.Paths) != 0 {
		t.Errorf("plain child: no_new_privs %v, seccomp %+v, masked %v", p.NoNewPrivs.Value, p.Seccomp, pathsOf(p.MaskedPaths))
	}
	if !slices.Contains(p.Capabilities.Effective, "CAP_SYS_ADMIN") {
		t.Errorf("plain child of root lacks CAP_SYS_ADMIN: %v", p.Capabilities.Effective)
	}

	// The table says it in words, with the evidence beside the verdicts.
	table := mustRun(t, "audit", strconv.Itoa(pid))
	for _, want := range []string{"no_new_privs", "true", "filter (2 filters)", mask, fmt.Sprintf("/proc/%d/status:", pid), "evidence"} {
		if !strings.Contains(table, want) {
			t.Errorf("audit table lacks %q:\n%s", want, table)
		}
	}
}

// initIno is PROC_*_INIT_INO of include/linux/proc_ns.h.
var initIno = map[string]uint64{
	"ipc": 0xEFFFFFFF, "uts": 0xEFFFFFFE, "user": 0xEFFFFFFD, "pid": 0xEFFFFFFC,
	"cgroup": 0xEFFFFFFB, "time": 0xEFFFFFFA, "net": 0xEFFFFFF9, "mnt": 0xEFFFFFF8,
}

// TestAuditInsideNoReference runs audit self in a new pid and mount
// namespace, where no host process is visible: there is no reference,
// and sharing is proven only by the fixed initial inodes. On kernels
// where the initial net and mnt namespaces have no fixed inode (measured
// here from the test's own links, which are the initial ones), those
// must be reported as not proven.
func TestAuditInsideNoReference(t *testing.T) {
	testutil.RequireRoot(t)
	unshare := testutil.RequireCommand(t, "unshare", "util-linux")
	cmd := testutil.Command(t, testutil.Quick, unshare, "--pid", "--fork", "--mount-proc", "--ipc", binary, "audit", "--json", "self")
	r := runCmd(t, cmd)
	if r.code != 0 {
		t.Fatalf("audit self inside: exit %d: %s", r.code, r.stderr)
	}
	var out auditOut
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	a := out.Targets[0]
	if a.Reference.PID != 0 || a.Reference.Why == "" {
		t.Errorf("reference %+v, want none, with why", a.Reference)
	}
	// Our own links are the initial namespaces (the test runs on the
	// host, or as the VM's init).
	fixed := map[string]bool{}
	for link, ino := range initIno {
		var st unix.Stat_t
		if err := unix.Stat("/proc/self/ns/"+link, &st); err != nil {
			t.Fatal(err)
		}
		fixed[link] = st.Ino == ino
		if !fixed[link] && link != "net" && link != "mnt" {
			t.Fatalf("the test does not run in the initial %s namespace (inode %d): it cannot check the proof", link, st.Ino)
		}
	}
	t.Logf("fixed initial inodes on this kernel: net %v, mnt %v", fixed["net"], fixed["mnt"])
	for link, want := range map[string]bool{"ipc": false, "pid": false, "mnt": false, "uts": true, "user": true, "cgroup": true, "time": true, "net": true} {
		ns := a.Facts.Namespaces[link]
		switch {
		case (link == "net" || link == "mnt") && !fixed[link]:
			if ns.Proven || !strings.Contains(ns.Why, "Linux 6.17") {
				t.Errorf("%s without a fixed initial inode: %+v, want not proven, saying which kernel is needed", link, ns)
			}
		case ns.Shared != want || !ns.Proven:
			t.Errorf("%s: %+v, want shared=%v, proven by the inode", link, ns, want)
		}
	}
}

// TestAuditBadInput: bad targets, flags and policies get one line and
// exit 2.
func TestAuditBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := dir + "/bad.yaml"
	os.WriteFile(bad, []byte("version: 1\nrules:\n  - name: r\n    expect:\n      seccomp: filter\n      no_new_privs: maybe\n"), 0o644)
	unknownFact := dir + "/fact.yaml"
	os.WriteFile(unknownFact, []byte("version: 1\nrules:\n  - name: r\n    expect:\n      capabilitys: {absent: [CAP_SYS_ADMIN]}\n"), 0o644)
	for _, tc := range []struct {
		args []string
		has  string
	}{
		{[]string{"audit"}, "audit"},
		{[]string{"audit", "999999999"}, "999999999"},
		{[]string{"audit", "0"}, "0"},
		{[]string{"audit", "lxc:web"}, "lxc"},
		{[]string{"audit", "docker:"}, "docker"},
		{[]string{"audit", "self", "--against", "nope"}, "nope"},
		{[]string{"audit", "self", "--policy", dir + "/absent.yaml"}, "absent.yaml"},
		{[]string{"audit", "self", "--policy", bad}, bad + ":6:21:"},
		{[]string{"audit", "self", "--policy", unknownFact}, unknownFact + ":5:7:"},
		{[]string{"audit", "self", "--junit", dir + "/x.xml"}, "--policy"},
	} {
		r := nsinspect(t, tc.args...)
		checkOneLineError(t, r, 2, strings.Join(tc.args, " "))
		if !strings.Contains(r.stderr, tc.has) {
			t.Errorf("%v: %q does not mention %q", tc.args, r.stderr, tc.has)
		}
	}
}
