package integration

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// residueN is how many experiments TestNoResidueUnderKill runs (a tenth of
// them SIGKILLed): 200 by default, NSINSPECT_RESIDUE_N for the full size
// of the hardening issue (1000).
func residueN(t *testing.T) int { return testutil.Size(t, "NSINSPECT_RESIDUE_N", 200, 10) }

// hostState is what an experiment could leave behind on the host.
type hostState struct {
	procs  []string // processes named nsinspect (labs and experiment sides are), zombies included
	marked []string // processes carrying this test's environment marker
	mounts []string // mounts made by a lab or a probe, and every nsfs bind mount, in the test's mount namespace
	links  []string // network links in our namespace
	ipc    []string // SysV IPC objects in our IPC namespace
}

func readHostState(t *testing.T, mark string, mountNS int) hostState {
	t.Helper()
	var s hostState
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil || e.Name() == strconv.Itoa(os.Getpid()) {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		if f := strings.Fields(string(stat)); len(f) > 3 && f[1] == "(nsinspect)" {
			s.procs = append(s.procs, fmt.Sprintf("pid %s state %s ppid %s", f[0], f[2], f[3]))
		}
		if env, err := os.ReadFile("/proc/" + e.Name() + "/environ"); err == nil && bytes.Contains(env, []byte(mark)) {
			s.marked = append(s.marked, "pid "+e.Name())
		}
	}
	mi, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", mountNS))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(mi), "\n") {
		if strings.Contains(line, "nsinspect") || strings.Contains(line, " nsfs ") {
			f := strings.Fields(line)
			s.mounts = append(s.mounts, strings.Join(f[3:5], " ")+" "+line[strings.Index(line, " - "):])
		}
	}
	links, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		s.links = append(s.links, l.Attrs().Name)
	}
	for _, kind := range []string{"shm", "sem", "msg"} {
		b, err := os.ReadFile("/proc/sysvipc/" + kind)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			if f := strings.Fields(line); len(f) > 2 {
				s.ipc = append(s.ipc, kind+" key "+f[0]+" id "+f[1])
			}
		}
	}
	for _, l := range [][]string{s.procs, s.marked, s.mounts, s.links, s.ipc} {
		sort.Strings(l)
	}
	return s
}

func diff(before, after []string) []string {
	had := map[string]bool{}
	for _, b := range before {
		had[b] = true
	}
	var out []string
	for _, a := range after {
		if !had[a] {
			out = append(out, a)
		}
	}
	return out
}

// Experiments, a tenth of them with nsinspect SIGKILLed at a random
// moment, leave nothing behind: no process or zombie, no mount, network
// link, IPC object or nsfs bind mount. The lab makes this structural: it
// is PID 1 of its own PID namespace with PDEATHSIG, so its death kills
// everything the experiment made, and its mounts, links and IPC objects
// live in namespaces that die with it.
func TestNoResidueUnderKill(t *testing.T) {
	testutil.RequireRoot(t)
	n := residueN(t)
	mark := fmt.Sprintf("NSINSPECT_RESIDUE_MARK=%d.%d", os.Getpid(), time.Now().UnixNano())
	// The experiments run in a mount namespace whose mounts are shared, as
	// on a systemd host, so that a lab that forgot to make its mounts
	// private would leak them here.
	holder := testutil.Command(t, testutil.Held, "unshare", "--mount", "--propagation", "shared", "sleep", "3600")
	startChild(t, holder)
	mountNS := holder.Process.Pid
	waitMountNS(t, mountNS)
	before := readHostState(t, mark, mountNS)
	sets := []string{"CLONE_NEWNET|CLONE_FILES", "newns,newipc,newuts", "vm,sighand,thread,files,fs", "newuser,newns,newpid",
		"vfork,files", "newtime,newnet", "pidfd,parent", "newcgroup,io,sysvsem", "sighand"}
	kill := map[int]bool{}
	for len(kill) < n/10 {
		kill[rand.IntN(n)] = true
	}
	killed, refused := 0, 0
	for i := 0; i < n; i++ {
		args := []string{"-t", strconv.Itoa(mountNS), "-m", "--", binary, "clone", sets[i%len(sets)], "--json"}
		if i%5 == 2 {
			args = append(args, "--host")
		}
		cmd := testutil.Command(t, testutil.Quick, "nsenter", args...) // nsenter execs nsinspect: the kill hits it
		cmd.Env = append(os.Environ(), mark)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if !kill[i] {
			err := cmd.Run()
			switch code := cmd.ProcessState.ExitCode(); {
			case err == nil:
			case code == 3:
				refused++
			default:
				t.Fatalf("experiment %d (%v): %v: %s", i, args, err, stderr.String())
			}
			continue
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rand.IntN(20000)) * time.Microsecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		killed++
	}
	// Dying namespaces and reparented zombies take a moment to go.
	var after hostState
	for try := 0; try < 100; try++ {
		after = readHostState(t, mark, mountNS)
		if len(after.procs) == len(before.procs) && len(after.marked) == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%d experiments, %d killed, %d refused by the kernel", n, killed, refused)
	for what, d := range map[string][]string{
		"process":    diff(before.procs, after.procs),
		"marked":     after.marked,
		"mount":      diff(before.mounts, after.mounts),
		"link":       diff(before.links, after.links),
		"IPC object": diff(before.ipc, after.ipc),
	} {
		for _, x := range d {
			t.Errorf("left behind: %s %s", what, x)
		}
	}
}

// waitMountNS waits until pid has left our mount namespace.
func waitMountNS(t *testing.T, pid int) {
	t.Helper()
	self, _ := os.Readlink("/proc/self/ns/mnt")
	for i := 0; i < 200; i++ {
		if ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", pid)); err == nil && ns != self {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("pid %d never entered its own mount namespace", pid)
}
