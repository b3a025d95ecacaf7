package integration

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/namespaces"
)

// Other people's programs under trace, each event checked against the
// namespaces the program left behind (readlink of the links, stat of a
// bind mount).

// `ip netns add NAME` unshares a network namespace, bind-mounts it on
// /run/netns/NAME and setns's back; `ip netns exec NAME true` setns's into
// it (an nsfs fd, the bind mount's) and unshares a mount namespace for its
// /sys. The namespace the first trace saw made is the one the bind mount
// holds, and the one the second saw entered.
func TestTraceIPNetns(t *testing.T) {
	requireTracer(t)
	testutil.RequireCommand(t, "ip", "iproute2")
	name := "nsinspect-it-trace-" + strconv.Itoa(os.Getpid())
	r := nsinspect(t, "trace", "--json", "--", "ip", "netns", "add", name)
	t.Cleanup(func() { testutil.Run(testutil.Quick, "ip", "netns", "del", name) })
	if r.code != 0 {
		t.Fatalf("trace -- ip netns add: exit %d: %s", r.code, lastLine(r.stderr))
	}
	var st unix.Stat_t
	if err := unix.Stat("/run/netns/"+name, &st); err != nil {
		t.Fatal(err)
	}
	hostNet := nsIno(t, "self", "net")
	made := eventsOf(traceEvents(t, r.stdout), "unshare")
	if len(made) != 1 || strings.Join(made[0].Flags, "|") != "CLONE_NEWNET" {
		t.Fatalf("ip netns add: %d unshare events (want 1 of CLONE_NEWNET):\n%s", len(made), r.stdout)
	}
	if c := row(t, made[0], "net"); c.Verdict != "replaced" || c.A.Ino != hostNet || c.B.Ino != st.Ino {
		t.Errorf("ip netns add: net %s %d -> %d; want replaced, %d (ours) -> %d (/run/netns/%s)", c.Verdict, c.A.Ino, c.B.Ino, hostNet, st.Ino, name)
	}

	r = nsinspect(t, "trace", "--json", "--", "ip", "netns", "exec", name, "true")
	if r.code != 0 {
		t.Fatalf("trace -- ip netns exec: exit %d: %s", r.code, lastLine(r.stderr))
	}
	evs := traceEvents(t, r.stdout)
	entered := eventsOf(evs, "setns")
	if len(entered) != 1 {
		t.Fatalf("ip netns exec: %d setns events, want 1:\n%s", len(entered), r.stdout)
	}
	e := entered[0]
	if e.FDKind != "nsfs" || e.Entered == nil || e.Entered.Type != namespaces.Net || e.Entered.Ino != st.Ino {
		t.Errorf("ip netns exec: setns entered %+v (fd %s), want net %d", e.Entered, e.FDKind, st.Ino)
	}
	if c := row(t, e, "net"); c.Verdict != "replaced" || c.B.Ino != st.Ino {
		t.Errorf("ip netns exec: net %s to %d, want replaced by %d", c.Verdict, c.B.Ino, st.Ino)
	}
	mnt := eventsOf(evs, "unshare")
	if len(mnt) != 1 || strings.Join(mnt[0].Flags, "|") != "CLONE_NEWNS" || row(t, mnt[0], "mnt").Verdict != "replaced" {
		t.Errorf("ip netns exec: want one unshare(CLONE_NEWNS) replacing mnt:\n%s", r.stdout)
	}
}

// `runc run -d` under trace (until runc exits; the container's init
// lives on): runc makes the container's namespaces, by unshare or by a
// clone with CLONE_NEW* flags, and the fork event that makes the
// container's init (the pid runc writes to --pid-file) has, for the
// child, exactly the namespaces /proc/PID/ns shows for it, and for each
// that differs from ours an event of a runc process that made it.
func TestTraceRunc(t *testing.T) {
	requireTracer(t)
	events := filepath.Join(t.TempDir(), "events.jsonl")
	c := startRuncBundleVia(t, "trace", nil, []string{binary, "trace", "--json", "--until-cmd-exits", "-o", events, "--"})
	b, err := os.ReadFile(events)
	if err != nil {
		t.Fatal(err)
	}
	checkContainerTrace(t, traceEvents(t, string(b)), c.pid, "runc")
}

// `podman run -d` (rootful) under trace until podman exits: podman makes
// the container's network namespace itself (and bind-mounts it under
// /run/netns for its network setup), starts conmon, and conmon the OCI
// runtime (crun or runc), which joins that one and makes the others and
// the init: all descendants of podman. The same checks as for runc.
func TestTracePodman(t *testing.T) {
	requireTracer(t)
	p := requirePodman(t, false)
	events := filepath.Join(t.TempDir(), "events.jsonl")
	name := "nsinspect-it-trace-" + strings.TrimPrefix(p.label, "nsinspect.test=")
	argv := append([]string{binary, "trace", "--json", "--until-cmd-exits", "-o", events, "--",
		"podman", "run", "-d", "--rm", "--label", p.label, "--name", name}, p.run...)
	argv = append(argv, podmanImage, "hold")
	t.Cleanup(func() { p.podman(t, "rm", "-f", "-t", "0", name) })
	if _, err := testutil.Output(testutil.Command(t, testutil.Slow, argv[0], argv[1:]...)); err != nil {
		t.Fatal(err)
	}
	pid := waitHold(t, name, func() (string, error) { return p.podman(t, "logs", name) },
		func() (string, error) { return p.podman(t, "inspect", "-f", "{{.State.Pid}}", name) })
	b, err := os.ReadFile(events)
	if err != nil {
		t.Fatal(err)
	}
	checkContainerTrace(t, traceEvents(t, string(b)), pid, "crun", "runc", "podman")
}

// checkContainerTrace checks a trace of an engine starting a container
// whose init is pid: one fork event makes the init, with for the child
// exactly the namespaces /proc/PID/ns shows, and each namespace of the
// container's that is not ours was made by an event (an unshare, or a
// fork with CLONE_NEW*) of a process whose comm starts with one of
// runtimes.
func checkContainerTrace(t *testing.T, evs []*inspect.TraceEvent, pid int, runtimes ...string) {
	t.Helper()
	var init *inspect.TraceEvent
	for _, e := range eventsOf(evs, "fork") {
		if e.Child != nil && e.Child.PID == pid && e.Child.TID == pid {
			if init != nil {
				t.Fatalf("two fork events of the container's init %d", pid)
			}
			init = e
		}
	}
	if init == nil {
		t.Fatalf("no fork event of the container's init %d in %d events", pid, len(evs))
	}
	newNS := 0
	for _, l := range namespaces.Links {
		want, ours := nsIno(t, strconv.Itoa(pid), l.Name), nsIno(t, "self", l.Name)
		if want == 0 {
			t.Fatalf("readlink /proc/%d/ns/%s failed", pid, l.Name)
		}
		if got := row(t, init, l.Name).B; got == nil || got.Ino != want {
			t.Errorf("the init's fork: %s %+v, /proc/%d/ns/%s says %d", l.Name, got, pid, l.Name, want)
		}
		if want == ours || l.Name == "pid_for_children" || l.Name == "time_for_children" {
			continue
		}
		newNS++
		maker := madeBy(evs, l.Name, want)
		switch {
		case maker == nil:
			t.Errorf("%s %d (the container's) made by no event", l.Name, want)
		case !slices.ContainsFunc(runtimes, func(r string) bool { return strings.HasPrefix(maker.Caller.Comm, r) }):
			t.Errorf("%s %d made by %s[%d], not by %v", l.Name, want, maker.Caller.Comm, maker.Caller.PID, runtimes)
		}
	}
	if newNS < 4 {
		t.Errorf("the container has %d namespaces of its own; want at least mnt, uts, ipc, net, pid", newNS)
	}
	t.Logf("%d events; the init's fork by %s[%d], %d namespaces made by the runtime", len(evs), init.Caller.Comm, init.Caller.PID, newNS)
}

// eventsOf are the events of one kind.
func eventsOf(evs []*inspect.TraceEvent, kind string) []*inspect.TraceEvent {
	var out []*inspect.TraceEvent
	for _, e := range evs {
		if e.Event == kind {
			out = append(out, e)
		}
	}
	return out
}

// madeBy is the first event that made namespace ino of link: an unshare
// that replaced it with ino (pid's by pid_for_children), or a fork whose
// child has it and whose caller had another.
func madeBy(evs []*inspect.TraceEvent, link string, ino uint64) *inspect.TraceEvent {
	row := func(rows []inspect.TraceShare, name string) *inspect.TraceShare {
		for i := range rows {
			if rows[i].Name == name {
				return &rows[i]
			}
		}
		return nil
	}
	for _, e := range evs {
		switch e.Event {
		case "unshare":
			name := link
			if link == "pid" || link == "time" {
				name = link + "_for_children"
			}
			if r := row(e.Changes, name); r != nil && r.Verdict == "replaced" && r.B != nil && r.B.Ino == ino {
				return e
			}
		case "fork":
			if r := row(e.Sharing, link); r != nil && r.B != nil && r.B.Ino == ino && (r.A == nil || r.A.Ino != ino) {
				return e
			}
		}
	}
	return nil
}

// `docker run -d` while watch runs: the container is made by dockerd's
// containerd and its shim's runc, not by a descendant of the docker CLI,
// so it is watch's (the machine's) to see, not trace's. The same checks
// as for runc, on the events watch printed until SIGTERM.
func TestWatchDockerRun(t *testing.T) {
	requireTracer(t)
	testutil.RequireCommand(t, "bpftool", "bpftool")
	e := requireEngine(t)
	out := filepath.Join(t.TempDir(), "events.jsonl")
	stopWatch := startWatch(t, io.Discard, "--json", "-o", out)
	c := e.startHold(t, "watch")
	stopWatch()
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	evs := traceEvents(t, string(b))
	if end := evs[len(evs)-1]; end.Lost != 0 {
		t.Errorf("watch lost %d events", end.Lost)
	}
	checkContainerTrace(t, evs, c.pid, "runc")
}

// watch --container keeps the events of the container's tasks (docker
// exec's entry into it, what runs there) and none of the host's.
func TestWatchContainerScope(t *testing.T) {
	requireTracer(t)
	testutil.RequireCommand(t, "bpftool", "bpftool")
	e := requireEngine(t)
	c := e.startHold(t, "scope")
	pidns, mntns := nsIno(t, strconv.Itoa(c.pid), "pid"), nsIno(t, strconv.Itoa(c.pid), "mnt")
	out := filepath.Join(t.TempDir(), "events.jsonl")
	stopWatch := startWatch(t, io.Discard, "--json", "-o", out, "--container", "docker:"+c.name)
	// The host's own: must not show.
	if _, err := testutil.Run(testutil.Slow, "true"); err != nil {
		t.Fatal(err)
	}
	if _, err := docker(t, "exec", c.id, "/nsinspect", "show", "--json", "self"); err != nil {
		t.Fatal(err)
	}
	stopWatch()
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	evs := traceEvents(t, string(b))
	inScope := func(ev *inspect.TraceEvent) bool {
		for _, r := range append(ev.Sharing, ev.Changes...) {
			for _, ref := range []*inspect.TraceRef{r.A, r.B} {
				if ref != nil && (r.Name == "pid" && ref.Ino == pidns || r.Name == "mnt" && ref.Ino == mntns) {
					return true
				}
			}
		}
		return false
	}
	// A failed fork has no table: its caller must be one whose other
	// events are in scope.
	scoped := map[int]bool{}
	for _, ev := range evs[:len(evs)-1] {
		if inScope(ev) {
			scoped[ev.Caller.PID] = true
		}
	}
	var setns, forks, named int
	for _, ev := range evs[:len(evs)-1] {
		if ev.Event == "fork" && ev.Child == nil && scoped[ev.Caller.PID] {
			continue
		}
		if !inScope(ev) {
			t.Errorf("an event of neither the container's pid namespace %d nor its mount namespace %d: %s %+v %+v", pidns, mntns, ev.Event, ev.Caller, ev.Child)
		}
		switch {
		case ev.Event == "setns" && ev.Errno == "":
			setns++
		case ev.Event == "fork" && ev.Caller.Comm == "nsinspect":
			forks++
			// The caller is named as the engine names it, where it
			// still ran when its event was read (docs/trace.md).
			switch cc := ev.Caller.Container; {
			case cc == nil:
			case cc.Engine != "docker" || cc.ID == "" || !strings.HasPrefix(c.id, cc.ID):
				t.Errorf("a fork by nsinspect in container %s: the caller's container is %+v, want docker and its id", c.id, cc)
			default:
				named++
			}
		}
		if ev.Caller != nil && ev.Caller.Comm == "true" || ev.Child != nil && ev.Child.Comm == "true" {
			t.Errorf("the host's true is in the container's events: %+v", ev)
		}
	}
	t.Logf("%d events in the container's scope: %d setns, %d forks by nsinspect, %d of them naming the container", len(evs)-1, setns, forks, named)
	if named == 0 {
		t.Errorf("no fork by nsinspect in container %s names it", c.id)
	}
	if setns == 0 || forks == 0 {
		t.Errorf("%d events: %d setns into the container (docker exec), %d threads made by nsinspect in it; want both", len(evs)-1, setns, forks)
	}
	// Bad input: one line, exit 2; a container that does not exist too.
	for _, arg := range []string{"self", "docker:no-such-container-" + strings.TrimPrefix(e.label, "nsinspect.test=")} {
		checkOneLineError(t, nsinspect(t, "watch", "--container", arg, "--count", "1"), 2, "watch --container "+arg)
	}
}

// A clone that a container's seccomp filter refuses is a failed fork
// event: Docker's default profile answers a clone with namespace flags
// from an unprivileged container EPERM (and clone3 ENOSYS, so that glibc
// falls back to clone).
func TestWatchSeccompRefusedClone(t *testing.T) {
	requireTracer(t)
	testutil.RequireCommand(t, "bpftool", "bpftool")
	e := requireEngine(t)
	out := filepath.Join(t.TempDir(), "events.jsonl")
	stopWatch := startWatch(t, io.Discard, "--json", "-o", out, "--comm", "nsinspect")
	// The experiment inside is refused (exit 4): what matters is the call.
	docker(t, "run", "--rm", "--label", e.label, image, "clone", "--json", "net")
	stopWatch()
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	evs := traceEvents(t, string(b))
	refused := 0
	calls := map[string]int{}
	for _, ev := range eventsOf(evs, "fork") {
		if ev.Child != nil {
			continue
		}
		calls[ev.Syscall+" "+ev.Errno]++
		if ev.Syscall == "clone" && ev.Errno == "EPERM" && slices.Contains(ev.Flags, "CLONE_NEWNET") {
			refused++
		}
	}
	t.Logf("failed forks by nsinspect in and out of the container: %v", calls)
	if refused == 0 {
		t.Errorf("no failed fork event of a clone with CLONE_NEWNET refused EPERM (failed forks seen: %v)", calls)
	}
}
