package integration

import (
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/procinfo"
)

// showOut mirrors `nsinspect show --json`.
type showOut struct {
	PID     int    `json:"pid"`
	TID     int    `json:"tid"`
	Tgid    int    `json:"tgid"`
	PPid    int    `json:"ppid"`
	State   string `json:"state"`
	Comm    string `json:"comm"`
	Kthread bool   `json:"kthread"`
	Zombie  bool   `json:"zombie"`
	Threads struct {
		Count int   `json:"count"`
		TIDs  []int `json:"tids"`
	} `json:"threads"`
	NSpid   []int                 `json:"nspid"`
	UID     [4]uint32             `json:"uid"`
	UIDMap  []procinfo.IDMapRange `json:"uid_map"`
	GIDMap  []procinfo.IDMapRange `json:"gid_map"`
	Cgroups []procinfo.Cgroup     `json:"cgroups"`
	Cwd     string                `json:"cwd"`
	Root    string                `json:"root"`
	Umask   string                `json:"umask"`
	Signals map[string]struct {
		Hex   string   `json:"hex"`
		Names []string `json:"names"`
	} `json:"signals"`
	NS []struct {
		Link  string `json:"link"`
		Type  string `json:"type"`
		Inode uint64 `json:"ns"`
		ID    uint64 `json:"id"`
		Error string `json:"error"`
	} `json:"namespaces"`
	Missing []struct{ Field, Reason string } `json:"unavailable"`
	Note    string                           `json:"note"`
}

func show(t *testing.T, arg string) showOut {
	t.Helper()
	var s showOut
	if err := json.Unmarshal([]byte(mustRun(t, "show", "--json", arg)), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// nsIDs identifies the ten namespaces of a live task independently of the
// binary, through this package's own procinfo pin: by NS_GET_ID, or by
// inode on kernels without it (before 6.18), where the live tasks compared
// hold their namespaces, so the inode is an identity (see ident).
func nsIDs(t *testing.T, pid int) map[string]uint64 {
	t.Helper()
	p, err := procinfo.Open(pid)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	links, err := p.Namespaces()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, l := range links {
		if l.Err != nil {
			t.Fatalf("ns/%s of %d: %v", l.Link.Name, pid, l.Err)
		}
		out[l.Link.Name] = ident(l.NS.ID, l.NS.Ino)
	}
	return out
}

// A process in a new user namespace made by unshare --map-root-user: its
// uid_map maps root inside to our uid outside, its user namespace differs
// from ours and every namespace id matches an independent read.
func TestShowUserns(t *testing.T) {
	testutil.RequireRoot(t)
	pid := unshareSleep(t, "--user", "--map-root-user")
	s := show(t, strconv.Itoa(pid))
	want := []procinfo.IDMapRange{{Inside: 0, Outside: uint32(os.Geteuid()), Count: 1}}
	if !slices.Equal(s.UIDMap, want) || !slices.Equal(s.GIDMap, []procinfo.IDMapRange{{Inside: 0, Outside: uint32(os.Getegid()), Count: 1}}) {
		t.Errorf("uid_map %v gid_map %v, want %v", s.UIDMap, s.GIDMap, want)
	}
	if s.PID != pid || s.Tgid != pid || s.PPid != os.Getpid() || s.Comm != "sleep" || s.Kthread || s.Zombie {
		t.Errorf("identity: %+v", s)
	}
	if !slices.Equal(s.NSpid, []int{pid}) || s.Threads.Count != 1 || !slices.Equal(s.Threads.TIDs, []int{pid}) {
		t.Errorf("nspid %v threads %+v", s.NSpid, s.Threads)
	}
	ids := nsIDs(t, pid)
	mine := nsIDs(t, os.Getpid())
	if len(s.NS) != 10 {
		t.Fatalf("%d namespace links, want 10", len(s.NS))
	}
	for _, n := range s.NS {
		if n.Error != "" || ident(n.ID, n.Inode) != ids[n.Link] {
			t.Errorf("ns/%s: %+v, want id %d", n.Link, n, ids[n.Link])
		}
		if (n.Link == "user") == (ident(n.ID, n.Inode) == mine[n.Link]) {
			t.Errorf("ns/%s: id %d, ours %d: only user should differ", n.Link, n.ID, mine[n.Link])
		}
	}
	if len(s.Missing) != 0 {
		t.Errorf("as root nothing should be unavailable: %+v", s.Missing)
	}
}

// A zombie (our child, exited, not reaped): what /proc still gives, and
// the note that its namespaces are gone.
func TestShowZombie(t *testing.T) {
	testutil.RequireRoot(t)
	cmd := testutil.Command(t, testutil.Held, "sh", "-c", "exit 0")
	startChild(t, cmd)
	pid := cmd.Process.Pid
	// Wait for the exit without reaping: the pid stays a zombie.
	var info unix.Siginfo
	if err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil); err != nil {
		t.Fatal(err)
	}
	s := show(t, strconv.Itoa(pid))
	if !s.Zombie || s.State != "Z (zombie)" || !strings.HasPrefix(s.Note, "zombie: namespaces released") || s.PPid != os.Getpid() || s.Comm != "sh" {
		t.Errorf("zombie: %+v", s)
	}
	// The nsproxy is gone at exit; pid and user stay with struct pid and
	// the credentials, and are still ours.
	mine := nsIDs(t, os.Getpid())
	for _, n := range s.NS {
		if n.Link == "pid" || n.Link == "user" {
			if n.Error != "" || ident(n.ID, n.Inode) != mine[n.Link] {
				t.Errorf("zombie ns/%s: %+v, want ours (%d)", n.Link, n, mine[n.Link])
			}
		} else if n.Error != "released" || n.ID != 0 {
			t.Errorf("zombie ns/%s: %+v, want released", n.Link, n)
		}
	}
	if s.Cwd != "" || len(s.Missing) != 0 {
		t.Errorf("zombie cwd %q, unavailable %+v: released fields are the note's, not errors", s.Cwd, s.Missing)
	}
	out := mustRun(t, "show", strconv.Itoa(pid))
	if !strings.Contains(out, "zombie: namespaces released") {
		t.Errorf("table output lacks the zombie note:\n%s", out)
	}
}

// kthreadd: a kernel thread by PF_KTHREAD, parent 0, every signal ignored.
func TestShowKthreadd(t *testing.T) {
	testutil.RequireRoot(t)
	s := show(t, "2")
	if !s.Kthread || s.Comm != "kthreadd" || s.PPid != 0 || s.PID != 2 {
		t.Errorf("kthreadd: %+v", s)
	}
	if ign := s.Signals["SigIgn"]; ign.Hex != "ffffffffffffffff" || len(ign.Names) != 64 {
		t.Errorf("kthreadd SigIgn %+v", ign)
	}
}

// self is the binary's own process: same namespaces, cwd and umask as the
// test that started it; a Go program catches SIGURG.
func TestShowSelf(t *testing.T) {
	testutil.RequireRoot(t)
	s := show(t, "self")
	cwd, _ := os.Getwd()
	if s.Comm != "nsinspect" || s.PID != s.Tgid || s.PPid != os.Getpid() || s.Cwd != cwd || s.Root != "/" || s.Kthread {
		t.Errorf("self: %+v", s)
	}
	old := unix.Umask(0)
	unix.Umask(old)
	if want := "0" + strconv.FormatInt(int64(old), 8); strings.TrimLeft(s.Umask, "0") != strings.TrimLeft(want, "0") {
		t.Errorf("umask %s, want %o", s.Umask, old)
	}
	if s.Threads.Count != len(s.Threads.TIDs) || !slices.Contains(s.Threads.TIDs, s.PID) {
		t.Errorf("threads %+v", s.Threads)
	}
	if !slices.Contains(s.Signals["SigCgt"].Names, "SIGURG") {
		t.Errorf("SigCgt %+v lacks SIGURG", s.Signals["SigCgt"])
	}
	mine := nsIDs(t, os.Getpid())
	for _, n := range s.NS {
		if ident(n.ID, n.Inode) != mine[n.Link] {
			t.Errorf("ns/%s: %d, the test's is %d", n.Link, ident(n.ID, n.Inode), mine[n.Link])
		}
	}
}

// PID:TID reads one thread of this test process.
func TestShowThread(t *testing.T) {
	testutil.RequireRoot(t)
	pid := os.Getpid()
	names, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	tid := 0
	for _, n := range names {
		if x, _ := strconv.Atoi(n.Name()); x != pid && x != 0 {
			tid = x
			break
		}
	}
	if tid == 0 {
		t.Fatal("the Go test process has no second thread")
	}
	s := show(t, strconv.Itoa(pid)+":"+strconv.Itoa(tid))
	if s.PID != pid || s.TID != tid || s.Tgid != pid || !slices.Contains(s.Threads.TIDs, tid) {
		t.Errorf("thread %d:%d: %+v", pid, tid, s)
	}
}

// Unprivileged: what needs ptrace access is named, the rest is printed,
// and the exit code (4) says the kernel refused part of it.
func TestShowUnprivileged(t *testing.T) {
	testutil.RequireRoot(t)
	target := testutil.Command(t, testutil.Held, "sleep", "1000")
	startChild(t, target)
	r := runAs(t, nobody(), "show", "--json", strconv.Itoa(target.Process.Pid))
	checkOneLineError(t, r, 4, "show as nobody")
	if !strings.Contains(r.stderr, "cwd, root, namespaces could not be read") {
		t.Errorf("show as nobody: stderr %q; want the refused fields named", r.stderr)
	}
	var s showOut
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatal(err)
	}
	missing := map[string]string{}
	for _, m := range s.Missing {
		missing[m.Field] = m.Reason
	}
	for _, f := range []string{"cwd", "root", "namespaces"} {
		if !strings.Contains(missing[f], "CAP_SYS_PTRACE") {
			t.Errorf("field %s: reason %q, want it to name CAP_SYS_PTRACE", f, missing[f])
		}
	}
	if s.Comm != "sleep" || len(s.UIDMap) == 0 || len(s.Cgroups) == 0 {
		t.Errorf("what needs no privilege is missing: %+v", s)
	}
}

// ident is a namespace's NS_GET_ID where the kernel gives one, else its
// inode: one kind of number per kernel, so comparable within a run.
func ident(id, ino uint64) uint64 {
	if id != 0 {
		return id
	}
	return ino
}
