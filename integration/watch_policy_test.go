package integration

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// eventPolicy is a policy of event rules: a docker container's process
// must not enter a host namespace, and a host process must not setns into
// another network namespace; the expect rule is audit's, which watch
// leaves alone.
const eventPolicy = `version: 1
rules:
  - name: containers-stay-out-of-host-namespaces
    match: {engine: docker}
    forbid:
      - {event: setns, into: host}
  - name: host-processes-keep-their-net
    match: {engine: host}
    forbid:
      - {event: setns, types: [net]}
  - name: audit-only
    expect: {no_new_privs: true}
`

// setnsProgram builds setnsHostNet (setns into kthreadd's network
// namespace, then a second's sleep), static, in a directory a container
// can bind-mount.
func setnsProgram(t *testing.T) string {
	t.Helper()
	testutil.RequireCommand(t, "gcc", "gcc")
	dir := t.TempDir()
	src := filepath.Join(dir, "setns.c")
	if err := os.WriteFile(src, []byte(setnsHostNet), 0o644); err != nil {
		t.Fatal(err)
	}
	prog := filepath.Join(dir, "setns")
	testutil.MustRun(t, testutil.Command(t, testutil.Quick, "gcc", "-O2", "-static", "-o", prog, src))
	os.Chmod(dir, 0o755)
	return prog
}

// watch --policy checks each event against the event rules: a docker
// container's process that enters the host's network namespace violates
// the first rule (and not the second: it is no host process); a host
// process in a network namespace of its own (unshare -n) that enters the
// host's violates the second (and not the first). Each violation is one
// line on stderr naming the rule, the caller and the event; the end line
// counts them; watch exits 1.
func TestWatchPolicy(t *testing.T) {
	requireTracer(t)
	testutil.RequireCommand(t, "bpftool", "bpftool")
	testutil.RequireCommand(t, "unshare", "util-linux")
	e := requireEngine(t)
	prog := setnsProgram(t)
	pol := filepath.Join(t.TempDir(), "events.yaml")
	if err := os.WriteFile(pol, []byte(eventPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "events.jsonl")
	cmd, stderr := startWatchCmd(t, io.Discard, "--policy", pol, "--comm", "setns", "--json", "-o", out)
	name := "nsinspect-it-policy-" + strings.TrimPrefix(e.label, "nsinspect.test=")
	args := append([]string{"run", "--name", name, "--label", e.label, "--pid", "host", "-v", prog + ":/setns:ro", "--entrypoint", "/setns"}, e.privileged...)
	t.Cleanup(func() { docker(t, "rm", "-f", name) })
	if o, err := docker(t, append(args, image)...); err != nil {
		t.Fatalf("docker run: %v: %s", err, o)
	}
	id := mustDocker(t, "inspect", "-f", "{{.Id}}", name)
	if o, err := testutil.Run(testutil.Quick, "unshare", "-n", prog); err != nil {
		t.Fatalf("unshare -n setns: %v: %s", err, o)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	code := -1
	if cmd.ProcessState != nil {
		code = cmd.ProcessState.ExitCode()
	}
	if code != 1 {
		t.Fatalf("watch --policy: exit %d (%v), want 1; stderr:\n%s", code, err, stderr.String())
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if strings.HasPrefix(l, "nsinspect: policy: ") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("want 2 violation lines, got %d; stderr:\n%s", len(lines), stderr.String())
	}
	wantLines := []string{
		`rule "containers-stay-out-of-host-namespaces" violated by docker/` + name + `: setns`,
		`rule "host-processes-keep-their-net" violated by host/pid-`,
	}
	for i, w := range wantLines {
		if !strings.Contains(lines[i], w) || !strings.Contains(lines[i], "by setns[") {
			t.Errorf("violation %d: %q, want it to contain %q and the caller", i, lines[i], w)
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	evs := traceEvents(t, string(b))
	end := evs[len(evs)-1]
	if end.Event != "end" || end.Violations != 2 || end.Undecided != 0 {
		t.Errorf("end line %+v, want 2 violations and none undecided", end.TraceEnd)
	}
	var fromContainer bool
	for _, ev := range evs {
		if c := ev.Caller; ev.Event == "setns" && c != nil && c.Container != nil && strings.HasPrefix(id, c.Container.ID) {
			fromContainer = true
		}
	}
	if !fromContainer {
		t.Errorf("no setns event names container %s as its caller's", id)
	}
}

// A policy that has no rule for the command is bad input, exit 2 with one
// line: watch --policy with expect rules alone, audit --policy with event
// rules alone.
func TestPolicyKinds(t *testing.T) {
	dir := t.TempDir()
	expectOnly := filepath.Join(dir, "expect.yaml")
	eventsOnly := filepath.Join(dir, "events.yaml")
	os.WriteFile(expectOnly, []byte("version: 1\nrules:\n  - name: a\n    expect: {no_new_privs: true}\n"), 0o644)
	os.WriteFile(eventsOnly, []byte("version: 1\nrules:\n  - name: a\n    forbid: [{event: unshare}]\n"), 0o644)
	checkOneLineError(t, nsinspect(t, "watch", "--policy", expectOnly, "--count", "1"), 2, "watch --policy with expect rules alone")
	checkOneLineError(t, nsinspect(t, "audit", "self", "--policy", eventsOnly), 2, "audit --policy with event rules alone")
	checkOneLineError(t, nsinspect(t, "watch", "--policy", filepath.Join(dir, "absent.yaml"), "--count", "1"), 2, "watch --policy with no such file")
}

// --hooks: an unknown value is bad input (exit 2, one line); fentry
// works where features says the kernel has BPF trampolines and exits 4
// with one line where it has not.
func TestHooksFlag(t *testing.T) {
	requireTracer(t)
	checkOneLineError(t, nsinspect(t, "watch", "--hooks", "kprobes", "--count", "1"), 2, "watch --hooks kprobes")
	r := nsinspect(t, "trace", "--hooks", "fentry", "--json", "--", "unshare", "-u", "true")
	if !haveTrampolines(t) {
		checkOneLineError(t, r, 4, "trace --hooks fentry without BPF trampolines")
		if !strings.Contains(r.stderr, "fentry") {
			t.Errorf("stderr %q does not say fentry", r.stderr)
		}
		return
	}
	if r.code != 0 {
		t.Fatalf("trace --hooks fentry: exit %d: %s", r.code, r.stderr)
	}
	if un := eventsOf(traceEvents(t, r.stdout), "unshare"); len(un) != 1 {
		t.Errorf("trace --hooks fentry -- unshare -u true: %d unshare events, want 1:\n%s", len(un), r.stdout)
	}
}
