package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// A zombie has released its nsproxy (exit_task_namespaces), so its cgroup,
// ipc, mnt, net, time and uts links answer ENOENT; but its struct pid
// still pins its pid namespace and every ancestor, and its cred its user
// namespace, so /proc/ZOMBIE/ns/pid and ns/user still resolve. lsns counts
// the zombie in those two, and so must ls.

// zombieCase is a zombie made by one of the recipes below and the
// namespaces it pins, as readlink gives them: "pid:[4026532262]".
type zombieCase struct {
	zombie    int
	pid, user string
}

// zombieWithStoppedParent is the issue's case 1: `unshare -p -U -r --fork
// sleep 60`, unshare stopped, its child (pid 1 of the new pid namespace)
// SIGKILLed: the child stays a zombie, since its parent cannot reap it.
// The new user namespace is held by unshare and the zombie, the new pid
// namespace by the zombie alone. With inner "sh", the child is a shell
// with two sleeps of its own, which the kernel kills when their pid
// namespace's init dies.
func zombieWithStoppedParent(t *testing.T, unshare []string, inner ...string) zombieCase {
	t.Helper()
	testutil.RequireRoot(t)
	if len(inner) == 0 {
		inner = []string{"sleep", "60"}
	}
	argv := append(append(unshare[1:], "-p", "-U", "-r", "-f"), inner...)
	cmd := testutil.Command(t, testutil.Held, unshare[0], argv...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %v: %v", cmd.Args, err)
	}
	parent := cmd.Process.Pid
	t.Cleanup(func() {
		unix.Kill(parent, unix.SIGKILL)
		unix.Kill(parent, unix.SIGCONT)
		cmd.Wait()
	})
	kids := waitProc(t, parent, fmt.Sprintf("task/%d/children", parent), func(s string) bool { return s != "" })
	z, _ := strconv.Atoi(strings.Fields(kids)[0])
	waitProc(t, z, "comm", func(s string) bool { return s == inner[0] })
	if inner[0] == "sh" {
		waitProc(t, z, fmt.Sprintf("task/%d/children", z), func(s string) bool { return len(strings.Fields(s)) == 2 })
	}
	if err := unix.Kill(parent, unix.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitProc(t, parent, "stat", func(s string) bool { return statState(s) == 'T' })
	unix.Kill(z, unix.SIGKILL)
	return pinnedBy(t, z)
}

// zombieReparented is the issue's case 2: `unshare -p -U -r --fork
// --kill-child bash -c 'sleep 60 & sleep 60 & wait'`, then unshare
// SIGKILLed. Its child dies with it (PDEATHSIG), its pid namespace with
// the two sleeps, and the child is left a zombie for its new parent to
// reap: PID 1 on a host, whose reaping is lazy here and absent in some
// containers. The test makes itself a child subreaper so that the new
// parent is the test, which reaps the zombie only at cleanup: the state
// then lasts as long as the test needs it.
func zombieReparented(t *testing.T) zombieCase {
	t.Helper()
	testutil.RequireRoot(t)
	testutil.RequireCommand(t, "unshare", "util-linux")
	testutil.RequireCommand(t, "bash", "bash")
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0) })
	cmd := testutil.Command(t, testutil.Held, "unshare", "-p", "-U", "-r", "--fork", "--kill-child", "bash", "-c", "sleep 60 & sleep 60 & wait")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	parent := cmd.Process.Pid
	kids := waitProc(t, parent, fmt.Sprintf("task/%d/children", parent), func(s string) bool { return s != "" })
	z, _ := strconv.Atoi(strings.Fields(kids)[0])
	t.Cleanup(func() {
		unix.Kill(z, unix.SIGKILL)
		var ws unix.WaitStatus
		unix.Wait4(z, &ws, 0, nil)
	})
	waitProc(t, z, fmt.Sprintf("task/%d/children", z), func(s string) bool { return len(strings.Fields(s)) == 2 })
	cmd.Process.Kill()
	cmd.Wait()
	zc := pinnedBy(t, z)
	if ppid := statPPID(t, z); ppid != os.Getpid() {
		t.Fatalf("zombie %d has parent %d, want the test (%d), its subreaper", z, ppid, os.Getpid())
	}
	return zc
}

// pinnedBy waits until pid is a zombie and reads the two links it keeps.
func pinnedBy(t *testing.T, pid int) zombieCase {
	t.Helper()
	waitProc(t, pid, "stat", func(s string) bool { return statState(s) == 'Z' })
	zc := zombieCase{zombie: pid}
	for _, l := range []struct {
		name string
		dst  *string
	}{{"pid", &zc.pid}, {"user", &zc.user}} {
		target, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, l.name))
		if err != nil {
			t.Fatalf("the kernel no longer resolves zombie %d's ns/%s: %v", pid, l.name, err)
		}
		*l.dst = target
	}
	if _, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid)); err == nil {
		t.Fatalf("zombie %d still resolves ns/net: the premise of these tests is wrong on this kernel", pid)
	}
	return zc
}

func statState(stat string) byte {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) {
		return 0
	}
	return stat[i+2]
}

func statPPID(t *testing.T, pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b)[strings.LastIndexByte(string(b), ')')+1:])
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// holdersByReadlink is the oracle: the processes whose /proc/PID/ns/TYPE
// link reads target, and how many of them are zombies, walked with
// readlink as lsns does, with no nsinspect code in between.
func holdersByReadlink(t *testing.T, target string) (procs, zombies int) {
	t.Helper()
	typ := target[:strings.IndexByte(target, ':')]
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		if got, err := os.Readlink("/proc/" + e.Name() + "/ns/" + typ); err != nil || got != target {
			continue
		}
		procs++
		if b, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil && statState(string(b)) == 'Z' {
			zombies++
		}
	}
	return procs, zombies
}

// checkZombieLs checks ls --json and ls -p against the oracle for the two
// namespaces zc pins; onlyZombies names those no live process holds.
func checkZombieLs(t *testing.T, zc zombieCase, onlyZombies ...string) {
	t.Helper()
	ls := decodeLs(t, "ls", mustRun(t, "ls", "--json"))
	for _, target := range []string{zc.pid, zc.user} {
		key := strings.Replace(strings.Trim(target, "]"), ":[", ":", 1)
		procs, zombies := holdersByReadlink(t, target)
		n, ok := ls[key]
		if !ok {
			t.Errorf("ls does not list %s, which zombie %d pins (readlink finds %d processes in it, %d of them zombies)", target, zc.zombie, procs, zombies)
			continue
		}
		if got := fmt.Sprint(n["nprocs"]); got != strconv.Itoa(procs) {
			t.Errorf("%s: ls nprocs %s, readlink over /proc finds %d", target, got, procs)
		}
		if got := fmt.Sprint(n["zombies"]); got != strconv.Itoa(zombies) {
			t.Errorf("%s: ls zombies %s, readlink over /proc finds %d", target, got, zombies)
		}
		sources := fmt.Sprint(n["sources"])
		if !strings.Contains(sources, "zombie") {
			t.Errorf("%s: sources %s lack zombie", target, sources)
		}
		for _, only := range onlyZombies {
			if only == target && strings.Contains(sources, "process") {
				t.Errorf("%s is held only by zombies: sources %s, want no process", target, sources)
			}
		}
	}
	p := decodeLs(t, "ls -p", mustRun(t, "ls", "-p", strconv.Itoa(zc.zombie), "--json"))
	if len(p) != 2 {
		t.Errorf("ls -p %d (a zombie): %d namespaces, want its pid and user namespaces: %v", zc.zombie, len(p), p)
	}
	for _, target := range []string{zc.pid, zc.user} {
		if _, ok := p[strings.Replace(strings.Trim(target, "]"), ":[", ":", 1)]; !ok {
			t.Errorf("ls -p %d (a zombie) lacks %s", zc.zombie, target)
		}
	}
}

// checkZombieViews: nsproxy lists the zombie apart, with the two
// namespaces it pins; graph marks it; show says its nsproxy is released.
func checkZombieViews(t *testing.T, zc zombieCase) {
	t.Helper()
	var g struct {
		Sets    []struct{ Tasks []struct{ PID, TID int } }
		Zombies []struct {
			PID, TID int
			Pins     []struct {
				Link string
				NS   struct {
					Type string
					Ino  uint64 `json:"ns"`
				} `json:"namespace"`
			}
		}
	}
	if err := json.Unmarshal([]byte(mustRun(t, "nsproxy", "--json")), &g); err != nil {
		t.Fatal(err)
	}
	for _, s := range g.Sets {
		for _, tk := range s.Tasks {
			if tk.PID == zc.zombie {
				t.Errorf("nsproxy puts zombie %d in a set, but it has no nsproxy", zc.zombie)
			}
		}
	}
	found := false
	for _, z := range g.Zombies {
		if z.PID != zc.zombie {
			continue
		}
		found = true
		var pins []string
		for _, p := range z.Pins {
			pins = append(pins, fmt.Sprintf("%s:[%d]", p.NS.Type, p.NS.Ino))
		}
		if got := strings.Join(pins, " "); got != zc.pid+" "+zc.user {
			t.Errorf("nsproxy: zombie %d pins %q, readlink says %q", zc.zombie, got, zc.pid+" "+zc.user)
		}
	}
	if !found {
		t.Errorf("nsproxy --json does not list zombie %d among its zombies", zc.zombie)
	}
	if dot := mustRun(t, "graph", "-p", strconv.Itoa(zc.zombie)); !strings.Contains(dot, "zombie: nsproxy released") {
		t.Errorf("graph -p %d does not mark the zombie:\n%s", zc.zombie, dot)
	}
	if out := mustRun(t, "show", strconv.Itoa(zc.zombie)); !strings.Contains(out, "zombie: namespaces released") {
		t.Errorf("show %d does not say the zombie released its namespaces:\n%s", zc.zombie, out)
	}
}

// checkLsnsAgrees compares nprocs with lsns -J's for the pinned ones.
func checkLsnsAgrees(t *testing.T, zc zombieCase) {
	t.Helper()
	ls := decodeLs(t, "ls", mustRun(t, "ls", "--json"))
	for _, target := range []string{zc.pid, zc.user} {
		key := strings.Replace(strings.Trim(target, "]"), ":[", ":", 1)
		// Per type: lsns 2.38 -J without -t was seen leaving out a pid
		// namespace that only a zombie holds, which -t pid lists.
		want, ok := lsnsJSON(t, "-t", target[:strings.IndexByte(target, ':')])[key]
		if !ok {
			t.Errorf("lsns does not list %s", target)
			continue
		}
		if got := ls[key]; fmt.Sprint(got["nprocs"]) != fmt.Sprint(want["nprocs"]) {
			t.Errorf("%s: ls nprocs %v, lsns %v", target, got["nprocs"], want["nprocs"])
		}
	}
}

// The two cases, against lsns -J and the readlink oracle.
func TestLsZombiesAgreeWithLsns(t *testing.T) {
	testutil.RequireCommand(t, "unshare", "util-linux")
	t.Run("stopped parent", func(t *testing.T) {
		zc := zombieWithStoppedParent(t, []string{"unshare"})
		checkLsnsAgrees(t, zc)
		checkZombieLs(t, zc, zc.pid)
		checkZombieViews(t, zc)
	})
	t.Run("reparented", func(t *testing.T) {
		zc := zombieReparented(t)
		checkLsnsAgrees(t, zc)
		checkZombieLs(t, zc, zc.pid, zc.user)
	})
}

// The same state made with busybox alone, for the kernel-matrix VMs: a
// zombie pid 1 whose parent is stopped, and one whose two sleeps the
// kernel killed with their pid namespace.
func TestKernelTruthZombies(t *testing.T) {
	bb := testutil.RequireCommand(t, busyboxPath(), "busybox-static")
	for _, c := range []struct {
		name  string
		inner []string
	}{{"sleep", nil}, {"sh with two sleeps", []string{"sh", "-c", "sleep 60 & sleep 60 & wait"}}} {
		t.Run(c.name, func(t *testing.T) {
			zc := zombieWithStoppedParent(t, []string{bb, "unshare"}, c.inner...)
			checkZombieLs(t, zc, zc.pid)
			checkZombieViews(t, zc)
		})
	}
}

func busyboxPath() string {
	if p := os.Getenv("NSINSPECT_BUSYBOX"); p != "" {
		return p
	}
	return "busybox"
}
