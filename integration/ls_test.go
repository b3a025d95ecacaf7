package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// Other packages' tests make and kill namespaces while these run, so every
// comparison with lsns is restricted to namespaces these tests made.

// lsEntry is one object of lsns -J or nsinspect ls --json, as decoded.
type lsEntry map[string]any

func (e lsEntry) key() string { return fmt.Sprintf("%v:%v", e["type"], e["ns"]) }

func decodeLs(t *testing.T, what, out string) map[string]lsEntry {
	t.Helper()
	var doc struct{ Namespaces []lsEntry }
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber() // inode numbers print as integers, not 4.02e+09
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%s: bad JSON: %v\n%.500s", what, err, out)
	}
	m := map[string]lsEntry{}
	for _, e := range doc.Namespaces {
		m[e.key()] = e
	}
	return m
}

func lsnsJSON(t *testing.T, args ...string) map[string]lsEntry {
	t.Helper()
	testutil.RequireCommand(t, "lsns", "util-linux")
	out := testutil.MustRun(t, testutil.Command(t, testutil.Quick, "lsns", append([]string{"-J"}, args...)...))
	return decodeLs(t, "lsns", out)
}

// child runs argv (util-linux unshare) and kills and reaps it at cleanup.
// With --kill-child the process in the new namespaces is unshare's child,
// whose pid is returned; otherwise the process itself, once it has exec'd.
func child(t *testing.T, argv ...string) (pid int) {
	t.Helper()
	testutil.RequireCommand(t, argv[0], "util-linux")
	pid = testutil.Start(t, argv...).Process.Pid
	if slices.Contains(argv, "--kill-child") {
		// --kill-child (which implies --fork) makes the kernel kill the
		// forked child when unshare dies; as pid 1 of a new pid
		// namespace it would otherwise outlive the test.
		kids := waitProc(t, pid, fmt.Sprintf("task/%d/children", pid), func(s string) bool { return s != "" })
		pid, _ = strconv.Atoi(strings.Fields(kids)[0])
		t.Cleanup(func() { unix.Kill(pid, unix.SIGKILL) })
	}
	waitProc(t, pid, "comm", func(s string) bool { return s == "sleep" })
	return pid
}

// waitProc polls /proc/PID/<file> until cond holds and returns it.
func waitProc(t *testing.T, pid int, file string, cond func(string) bool) string {
	t.Helper()
	for i := 0; i < 5000; i++ {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, file))
		if s := strings.TrimSpace(string(b)); err == nil && cond(s) {
			return s
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("/proc/%d/%s never became ready", pid, file)
	return ""
}

// nsKey is "type:inode" of /proc/PID/ns/<link>, the key of lsEntry.
func nsKey(t *testing.T, pid int, link, typ string) string {
	t.Helper()
	target, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, link))
	if err != nil {
		t.Fatal(err)
	}
	ino := strings.TrimSuffix(strings.TrimPrefix(target, typ+":["), "]")
	return typ + ":" + ino
}

// The namespaces lsns cannot see: held only by a thread, a bind mount or
// an open fd. nsinspect lists them with how it found them; lsns does not.
func TestLsFindsWhatLsnsMisses(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireCommand(t, "ip", "iproute2")
	threadKey := threadOnlyUTS(t)

	name := fmt.Sprintf("nsinspect-it-%d", os.Getpid())
	testutil.MustRun(t, testutil.Command(t, testutil.Quick, "ip", "netns", "add", name))
	t.Cleanup(func() {
		if _, err := testutil.Output(testutil.Command(t, testutil.Quick, "ip", "netns", "del", name)); err != nil {
			t.Error(err)
		}
	})
	// Have our network namespace assign it an nsid, to check NETNSID.
	testutil.MustRun(t, testutil.Command(t, testutil.Quick, "ip", "netns", "set", name, "auto"))
	out := testutil.MustRun(t, testutil.Command(t, testutil.Quick, "ip", "netns", "list"))
	var nsid string
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == name && f[1] == "(id:" {
			nsid = strings.TrimSuffix(f[2], ")")
		}
	}
	if nsid == "" {
		t.Fatalf("ip netns list shows no id for %s:\n%s", name, out)
	}
	var st unix.Stat_t
	if err := unix.Stat("/run/netns/"+name, &st); err != nil {
		t.Fatal(err)
	}
	mountKey := fmt.Sprintf("net:%d", st.Ino)

	pid := child(t, "unshare", "--ipc", "sleep", "600")
	fdKey := nsKey(t, pid, "ipc", "ipc")
	fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/ipc", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	syscallKill(t, pid)

	ours := decodeLs(t, "nsinspect", mustRun(t, "ls", "--json"))
	lsns := lsnsJSON(t)
	if got := fmt.Sprint(ours[mountKey]["netnsid"]); got != nsid {
		t.Errorf("%s: netnsid %s, ip netns list says %s", mountKey, got, nsid)
	}
	for _, c := range []struct{ key, source, holders string }{
		{threadKey, "thread", "threads"}, {mountKey, "bindmount", "bindmounts"}, {fdKey, "fd", "fds"},
	} {
		got, ok := ours[c.key]
		if !ok {
			t.Errorf("%s (held by %s only): nsinspect does not list it", c.key, c.source)
			continue
		}
		if srcs := fmt.Sprint(got["sources"]); !strings.Contains(srcs, c.source) {
			t.Errorf("%s: sources %s, want %s", c.key, srcs, c.source)
		}
		if h, _ := got[c.holders].([]any); len(h) == 0 {
			t.Errorf("%s: no %s listed", c.key, c.holders)
		}
		if fmt.Sprint(got["nprocs"]) != "0" || got["pid"] != nil {
			t.Errorf("%s: nprocs %v pid %v, want 0 and null", c.key, got["nprocs"], got["pid"])
		}
		if _, ok := lsns[c.key]; ok {
			t.Errorf("%s: lsns lists it too; it was expected to be an lsns blind spot", c.key)
		}
	}
}

// threadOnlyUTS gives one thread of the test process a UTS namespace of
// its own, for the life of the test, and returns its key.
func threadOnlyUTS(t *testing.T) string {
	t.Helper()
	tid := testutil.ThreadUnshare(t, unix.CLONE_NEWUTS)
	target, err := os.Readlink(fmt.Sprintf("/proc/self/task/%d/ns/uts", tid))
	if err != nil {
		t.Fatal(err)
	}
	return "uts:" + strings.TrimSuffix(strings.TrimPrefix(target, "uts:["), "]")
}

func syscallKill(t *testing.T, pid int) {
	t.Helper()
	p, err := os.FindProcess(pid)
	if err != nil {
		t.Fatal(err)
	}
	p.Kill()
	p.Wait()
}

func TestLsFilters(t *testing.T) {
	testutil.RequireRoot(t)
	pid := child(t, "unshare", "--user", "--map-root-user", "--net", "sleep", "600")
	netKey, userKey := nsKey(t, pid, "net", "net"), nsKey(t, pid, "user", "user")

	nets := decodeLs(t, "ls -t net", mustRun(t, "ls", "-t", "net", "--json"))
	for k := range nets {
		if !strings.HasPrefix(k, "net:") {
			t.Errorf("-t net listed %s", k)
		}
	}
	if _, ok := nets[netKey]; !ok {
		t.Errorf("-t net did not list %s", netKey)
	}

	mine := decodeLs(t, "ls -p", mustRun(t, "ls", "-p", strconv.Itoa(pid), "--json"))
	var want []string
	for _, l := range []string{"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"} {
		want = append(want, nsKey(t, pid, l, l))
	}
	var got []string
	for k := range mine {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("ls -p %d: got %v, want %v", pid, got, want)
	}

	// In the tree the new net namespace sits right under its owner.
	tree := mustRun(t, "ls", "--tree", "-p", strconv.Itoa(pid))
	lines := strings.Split(tree, "\n")
	userLine := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, keyText(userKey)) })
	netLine := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, keyText(netKey)) })
	if userLine < 0 || netLine <= userLine || indent(lines[netLine]) <= indent(lines[userLine]) {
		t.Errorf("--tree: want %s below %s and indented deeper:\n%s", keyText(netKey), keyText(userKey), tree)
	}
}

func keyText(key string) string {
	typ, ino, _ := strings.Cut(key, ":")
	return typ + ":[" + ino + "]"
}

func indent(line string) int { return strings.IndexAny(line, "abcdefghijklmnopqrstuvwxyz") }

// Without privilege: what can be read is printed, and one line on stderr
// says what needed CAP_SYS_PTRACE.
func TestLsUnprivileged(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireCommand(t, "setpriv", "util-linux")
	// The binary's directory is private to root; nobody must reach it.
	if err := os.Chmod(filepath.Dir(binary), 0o755); err != nil {
		t.Fatal(err)
	}
	nobody := []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"}
	pid := child(t, append(nobody, "unshare", "--user", "sleep", "600")...)
	userKey := nsKey(t, pid, "user", "user")

	cmd := testutil.Command(t, testutil.Quick, nobody[0], append(nobody[1:], binary, "ls", "--json")...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := testutil.Output(cmd)
	if err != nil {
		t.Fatalf("ls as nobody: %v", err)
	}
	checkContract(t, cmd.Args, string(out))
	// One note that BPF needs privilege (so /proc was read), then one
	// warning naming what /proc withheld.
	lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "CAP_BPF") || !strings.Contains(lines[1], "CAP_SYS_PTRACE") || strings.Contains(stderr.String(), "goroutine") {
		t.Errorf("stderr: %q; want a note naming CAP_BPF, then one line naming CAP_SYS_PTRACE", stderr.String())
	}
	if !strings.Contains(out, `"source": "proc"`) {
		t.Errorf("ls --json as nobody does not say it read /proc: %.200s", out)
	}
	got := decodeLs(t, "ls as nobody", out)
	e, ok := got[userKey]
	if !ok {
		t.Fatalf("nobody's own user namespace %s is not listed", userKey)
	}
	if fmt.Sprint(e["nprocs"]) != "1" || fmt.Sprint(e["pid"]) != strconv.Itoa(pid) || e["user"] != "nobody" {
		t.Errorf("%s as nobody: nprocs %v pid %v user %v; want 1, %d, nobody", userKey, e["nprocs"], e["pid"], e["user"], pid)
	}
}
