package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// lsSource decodes the "source" of `ls --json` output, or of any view's
// JSON that has one.
func lsSource(t *testing.T, what, stdout string) string {
	t.Helper()
	var out struct {
		Source string `json:"source"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Errorf("%s: stdout is not ls JSON: %v", what, err)
	}
	return out.Source
}

// checkFellBack asserts what a view's --json (auto) prints where auto
// wants BPF and BPF cannot run: exit 0 through /proc, and on stderr
// exactly one note that BPF is unavailable, containing why, besides the
// warnings about what /proc refused.
func checkFellBack(t *testing.T, what string, r result, why string) {
	t.Helper()
	noCrash(t, what, r)
	if r.code != 0 {
		t.Fatalf("%s: exit %d, stderr %q", what, r.code, r.stderr)
	}
	if src := lsSource(t, what, r.stdout); src != "proc" {
		t.Errorf("%s: source %q, want proc", what, src)
	}
	notes := 0
	for _, line := range strings.Split(strings.TrimRight(r.stderr, "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "nsinspect: note: BPF unavailable"):
			notes++
			if !strings.Contains(line, why) {
				t.Errorf("%s: note %q does not say %q", what, line, why)
			}
		case strings.HasPrefix(line, "nsinspect: warning: "), line == "":
		default:
			t.Errorf("%s: unexpected stderr line %q", what, line)
		}
	}
	if notes != 1 {
		t.Errorf("%s: %d BPF notes on stderr, want 1: %q", what, notes, r.stderr)
	}
}

// Without the privilege to load BPF, ls reads /proc and says so once, and
// --source bpf is a refusal (exit 4, one line naming the capabilities)
// rather than a crash. A bad --source is a usage error, for anyone.
func TestBPFUnprivileged(t *testing.T) {
	testutil.RequireRoot(t)
	checkFellBack(t, "ls as nobody", runAs(t, nobody(), "ls", "--json"), "CAP_BPF")
	r := runAs(t, nobody(), "ls", "--source", "bpf")
	checkOneLineError(t, r, 4, "ls --source bpf as nobody")
	if !strings.Contains(r.stderr, "CAP_BPF") || r.stdout != "" {
		t.Errorf("ls --source bpf as nobody: stderr %q stdout %q; want one line naming CAP_BPF, no output", r.stderr, r.stdout)
	}
	for _, attr := range []*syscall.SysProcAttr{nil, nobody()} {
		r := runAs(t, attr, "ls", "--source", "bogus")
		checkOneLineError(t, r, 2, "ls --source bogus")
		if !strings.Contains(r.stderr, "bogus") {
			t.Errorf("ls --source bogus: %q does not name the bad value", r.stderr)
		}
	}
}

// withoutBTF runs nsinspect args as root in a mount namespace of its own
// where a tmpfs hides /sys/kernel/btf: a kernel without BTF, as far as
// nsinspect can tell. Go makes the new namespace's mounts private before
// the shell runs, so nothing reaches the host's.
func withoutBTF(t *testing.T, args ...string) result {
	t.Helper()
	script := `mount -t tmpfs nsinspect-nobtf /sys/kernel/btf || exit 100; exec "$@"`
	cmd := testutil.Command(t, testutil.Quick, "sh", append([]string{"-c", script, "sh", binary}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS, Pdeathsig: syscall.SIGKILL}
	r := runCmd(t, cmd)
	if r.code == 100 {
		t.Fatalf("could not hide /sys/kernel/btf: %s", r.stderr)
	}
	return r
}

// On a kernel without BTF the iterators cannot be relocated (CO-RE):
// nsproxy, whose auto wants BPF on any host (only BPF reads the nsproxy
// pointers), reads /proc with one note saying BTF is missing, and ls
// --source bpf exits 4 with one line saying so. The host's
// /sys/kernel/btf is untouched.
func TestBPFWithoutBTF(t *testing.T) {
	requireBPF(t)
	checkFellBack(t, "nsproxy without BTF", withoutBTF(t, "nsproxy", "--json"), "BTF")
	r := withoutBTF(t, "ls", "--source", "bpf")
	checkOneLineError(t, r, 4, "ls --source bpf without BTF")
	if !strings.Contains(r.stderr, "BTF") || r.stdout != "" {
		t.Errorf("ls --source bpf without BTF: stderr %q stdout %q; want one line about BTF", r.stderr, r.stdout)
	}
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		t.Errorf("the host lost its BTF: %v", err)
	}
	if r := nsinspect(t, "nsproxy", "--json"); r.code != 0 || lsSource(t, "nsproxy after", r.stdout) != "bpf" {
		t.Errorf("nsproxy on the host afterwards: exit %d, stderr %q; want BPF again", r.code, r.stderr)
	}
}

// A caller that may load BPF (CAP_BPF and CAP_PERFMON) but may not read
// other users' /proc/PID/ns (nobody, without CAP_SYS_PTRACE) gets the
// full answer from auto, whatever the host's size: /proc refuses it
// root's processes, so auto runs BPF, and lists a namespace that only a
// root process is in, which --source proc cannot show it.
func TestAutoFullAnswerWhereProcRefuses(t *testing.T) {
	requireBPF(t)
	cmd := testutil.StartReady(t, "unshare", "--uts", "sh", "-c", "echo ready; exec sleep 600")
	link, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/uts", cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	key := strings.NewReplacer("[", "", "]", "").Replace(link) // uts:[4026532...] -> uts:4026532...
	attr := nobody()
	attr.AmbientCaps = []uintptr{unix.CAP_BPF, unix.CAP_PERFMON}
	r := runAs(t, attr, "ls", "--json")
	noCrash(t, "ls as nobody with CAP_BPF", r)
	if r.code != 0 || strings.Contains(r.stderr, "BPF unavailable") {
		t.Fatalf("ls as nobody with CAP_BPF and CAP_PERFMON: exit %d, stderr %q; want BPF to run", r.code, r.stderr)
	}
	if src := lsSource(t, "ls as nobody with CAP_BPF", r.stdout); src != "bpf" {
		t.Errorf("ls as nobody with CAP_BPF and CAP_PERFMON: source %q, want bpf", src)
	}
	if _, ok := decodeLs(t, "ls as nobody with CAP_BPF", r.stdout)[key]; !ok {
		t.Errorf("ls as nobody with CAP_BPF and CAP_PERFMON: %s (root's sleep %d) not listed", key, cmd.Process.Pid)
	}
	// The same caller's /proc walk: the namespace is hidden from it.
	r = runAs(t, attr, "ls", "--json", "--source", "proc")
	if _, ok := decodeLs(t, "ls --source proc as nobody", r.stdout)[key]; r.code != 0 || ok {
		t.Errorf("ls --source proc as nobody: exit %d, %s listed %v; want it refused (stderr %q)", r.code, key, ok, r.stderr)
	}
}

// From a pid namespace of its own, auto on a small host still runs BPF:
// NS_GET_PARENT answers EPERM above the caller's pid namespace, so /proc
// cannot show that namespace's parent, which the kernel's pointers give
// (ls's "pns", the initial pid namespace's PROC_PID_INIT_INO).
func TestAutoFullAnswerInPidNamespace(t *testing.T) {
	requireBPF(t)
	testutil.RequireCommand(t, "unshare", "util-linux")
	ls := func(args ...string) map[string]lsEntry {
		t.Helper()
		cmd := testutil.Command(t, 2*time.Minute, "unshare", append([]string{"--pid", "--fork", "--mount-proc", binary, "ls", "--json"}, args...)...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		r := runCmd(t, cmd)
		noCrash(t, "ls in a pid namespace", r)
		if r.code != 0 || strings.Contains(r.stderr, "BPF unavailable") {
			t.Fatalf("ls %v in a pid namespace: exit %d, stderr %q", args, r.code, r.stderr)
		}
		if want := map[bool]string{true: "proc", false: "bpf"}[len(args) > 0]; lsSource(t, "ls in a pid namespace", r.stdout) != want {
			t.Errorf("ls %v in a pid namespace: source %q, want %s", args, lsSource(t, "", r.stdout), want)
		}
		return decodeLs(t, "ls in a pid namespace", r.stdout)
	}
	hasParent := func(m map[string]lsEntry) bool {
		for _, e := range m {
			if e["type"] == "pid" && fmt.Sprint(e["pns"]) == "4026531836" {
				return true
			}
		}
		return false
	}
	if !hasParent(ls()) {
		t.Errorf("ls (auto) in a pid namespace: no pid namespace with the initial one as its parent")
	}
	// The walk cannot show it: this is what auto must not settle for.
	if hasParent(ls("--source", "proc")) {
		t.Errorf("ls --source proc in a pid namespace shows the initial pid namespace as a parent; the rule for auto is moot")
	}
}
