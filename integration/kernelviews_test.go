package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// The kernel views: nsproxy's true instances, show --kernel, fds --kernel
// and compare --kernel, each read by BPF iterators and checked against
// what the test made and /proc's independent view.

// requireKernelViews stops a test that needs BPF iterators: root and
// kernel BTF (the iterators need Linux 5.8+, which every kernel with
// these tests' other features has). Under CI=true a missing one fails.
func requireKernelViews(t *testing.T) {
	t.Helper()
	testutil.RequireRoot(t)
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		testutil.Unavailable(t, "no kernel BTF (/sys/kernel/btf/vmlinux) for the BPF iterators", "boot a kernel with CONFIG_DEBUG_INFO_BTF=y")
	}
	// Registered first, so it runs after every kill and reap.
	t.Cleanup(func() { testutil.NoChildren(t) })
}

// kvNSProxy mirrors the parts of `nsproxy --json` the tests read.
type kvNSProxy struct {
	Source    string `json:"source"`
	NSProxies []struct {
		ID         uint64          `json:"id"`
		Set        int             `json:"set"`
		Namespaces json.RawMessage `json:"namespaces"`
		Tasks      []struct {
			PID int `json:"pid"`
			TID int `json:"tid"`
		} `json:"tasks"`
		SameSetAs []uint64 `json:"same_set_as"`
	} `json:"nsproxies"`
}

// instanceOf is the index of the instance holding task tid, -1 for none.
func (d kvNSProxy) instanceOf(tid int) int {
	for i, in := range d.NSProxies {
		for _, tk := range in.Tasks {
			if tk.TID == tid {
				return i
			}
		}
	}
	return -1
}

// TestKernelNSProxySetnsCopies pins the kernel fact the nsproxy view
// shows: a forked child shares its parent's struct nsproxy, while
// setns(2) always gives the caller a new one, even into a namespace it is
// already in. nsenter -t A -u joins A's uts namespace, which it is in
// already, so its sleep has the same set as A in a separate nsproxy.
func TestKernelNSProxySetnsCopies(t *testing.T) {
	requireKernelViews(t)
	testutil.RequireCommand(t, "nsenter", "util-linux")
	a := testutil.Start(t, "sleep", "1000").Process.Pid
	testutil.WaitComm(t, a, "sleep")
	b := testutil.Start(t, "nsenter", "-t", strconv.Itoa(a), "-u", "sleep", "1000").Process.Pid
	testutil.WaitComm(t, b, "sleep") // nsenter has called setns and exec'd

	var d kvNSProxy
	if err := json.Unmarshal([]byte(mustRun(t, "nsproxy", "--json", "--source", "bpf")), &d); err != nil {
		t.Fatal(err)
	}
	if d.Source != "bpf" {
		t.Fatalf("source %q, want bpf", d.Source)
	}
	self, ia, ib := d.instanceOf(os.Getpid()), d.instanceOf(a), d.instanceOf(b)
	if self < 0 || ia < 0 || ib < 0 {
		t.Fatalf("instances: test %d, sleep %d, nsenter's sleep %d: each task must be in one", self, ia, ib)
	}
	A, B := d.NSProxies[ia], d.NSProxies[ib]
	if ia != self {
		t.Errorf("the forked sleep is in nsproxy %d, its parent (the test) in %d: fork must share it", A.ID, d.NSProxies[self].ID)
	}
	if A.ID == B.ID {
		t.Fatalf("the sleep after setns shares nsproxy %d with the plain sleep: setns must copy it", A.ID)
	}
	if A.Set != B.Set || string(A.Namespaces) != string(B.Namespaces) {
		t.Errorf("nsproxy %d (set %d) and %d (set %d) differ in namespaces; nsenter -u into its own uts must keep the set", A.ID, A.Set, B.ID, B.Set)
	}
	if !slices.Contains(A.SameSetAs, B.ID) || !slices.Contains(B.SameSetAs, A.ID) {
		t.Errorf("same_set_as: %d has %v, %d has %v; each must name the other", A.ID, A.SameSetAs, B.ID, B.SameSetAs)
	}
	if len(B.Tasks) != 1 {
		t.Errorf("nsproxy %d of the nsenter'd sleep holds %v, want that task alone", B.ID, B.Tasks)
	}
}

// The threads helper is this test binary re-executed with
// kvThreadsHelperEnv set: it parks extra threads and blocks on stdin, so
// that its task list stays still while it is read.
const kvThreadsHelperEnv = "NSINSPECT_IT_THREADS_HELPER"

func init() {
	if os.Getenv(kvThreadsHelperEnv) == "1" {
		threadsHelper()
	}
}

func threadsHelper() {
	ready := make(chan struct{})
	for range 2 {
		go func() {
			runtime.LockOSThread() // never unlocked: the thread stays this goroutine's
			ready <- struct{}{}
			select {}
		}()
	}
	<-ready
	<-ready
	fmt.Println("ready")
	os.Stdin.Read(make([]byte, 1))
	os.Exit(0)
}

func startThreadsHelper(t *testing.T) int {
	t.Helper()
	cmd := testutil.Command(t, testutil.Held, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), kvThreadsHelperEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() })
	buf := make([]byte, 6)
	if n, err := out.Read(buf); err != nil || string(buf[:n]) != "ready\n" {
		t.Fatalf("threads helper did not start: %q, %v", buf[:n], err)
	}
	return cmd.Process.Pid
}

// tasksOf lists /proc/PID/task.
func tasksOf(t *testing.T, pid int) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	if err != nil {
		t.Fatal(err)
	}
	var tids []int
	for _, e := range ents {
		n, _ := strconv.Atoi(e.Name())
		tids = append(tids, n)
	}
	return tids
}

type kvTask struct {
	PID int `json:"pid"`
	TID int `json:"tid"`
}

// kvObjects runs `show --kernel --json` and returns its objects by name.
func kvObjects(t *testing.T, arg string) map[string][]kvTask {
	t.Helper()
	var s struct {
		Kernel *struct {
			Source  string `json:"source"`
			Objects []struct {
				Name       string   `json:"name"`
				Field      string   `json:"field"`
				ID         uint64   `json:"id"`
				SharedWith []kvTask `json:"shared_with"`
			} `json:"objects"`
		} `json:"kernel"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "show", arg, "--kernel", "--json")), &s); err != nil {
		t.Fatal(err)
	}
	if s.Kernel == nil || s.Kernel.Source != "bpf" || len(s.Kernel.Objects) != 9 {
		t.Fatalf("show %s --kernel: kernel %+v, want nine objects from bpf", arg, s.Kernel)
	}
	out := map[string][]kvTask{}
	for _, o := range s.Kernel.Objects {
		if o.ID == 0 && len(o.SharedWith) != 0 {
			t.Errorf("%s (%s) is NULL but shared with %v", o.Name, o.Field, o.SharedWith)
		}
		out[o.Name] = o.SharedWith
	}
	return out
}

// TestKernelShowThreadsShare checks what clone(2) flags promise: a
// process's threads (CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|
// CLONE_THREAD) share its files, fs, mm, sighand and signal with nobody
// else, while a forked child shares none of them but the nsproxy.
func TestKernelShowThreadsShare(t *testing.T) {
	requireKernelViews(t)
	h := startThreadsHelper(t)
	threads := tasksOf(t, h)
	if len(threads) < 3 {
		t.Fatalf("helper %d has threads %v, want at least three", h, threads)
	}
	objs := kvObjects(t, strconv.Itoa(h))
	for _, name := range []string{"files", "fs", "mm", "sighand", "signal"} {
		var got []int
		for _, tk := range objs[name] {
			if tk.PID != h {
				t.Errorf("%s of process %d is shared with %d:%d, another process", name, h, tk.PID, tk.TID)
			}
			got = append(got, tk.TID)
		}
		for _, tid := range threads {
			if tid != h && !slices.Contains(got, tid) {
				t.Errorf("%s of process %d: thread %d is not among %v", name, h, tid, got)
			}
		}
	}
	// The helper is the test's forked child: one nsproxy, nothing else.
	if !slices.Contains(objs["nsproxy"], kvTask{os.Getpid(), os.Getpid()}) {
		t.Errorf("nsproxy of the forked helper is not shared with its parent %d: %v", os.Getpid(), objs["nsproxy"])
	}
	for _, name := range []string{"files", "mm"} {
		if slices.ContainsFunc(objs[name], func(k kvTask) bool { return k.PID == os.Getpid() }) {
			t.Errorf("%s of the forked helper is shared with its parent %d", name, os.Getpid())
		}
	}
	// A thread named as PID:TID is pinned and found too.
	objs = kvObjects(t, fmt.Sprintf("%d:%d", h, threads[len(threads)-1]))
	if !slices.Contains(objs["mm"], kvTask{h, h}) {
		t.Errorf("thread %d's mm is not shared with its leader: %v", threads[len(threads)-1], objs["mm"])
	}
}

// TestKernelCompareWitness checks that BPF's pointers agree with kcmp on
// a process and its own thread (all shared) and on two processes (none
// of files, fs, vm, sighand shared).
func TestKernelCompareWitness(t *testing.T) {
	requireKernelViews(t)
	h := startThreadsHelper(t)
	s := testutil.Start(t, "sleep", "1000").Process.Pid
	threads := tasksOf(t, h)
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{strconv.Itoa(h), fmt.Sprintf("%d:%d", h, threads[len(threads)-1]), true},
		{strconv.Itoa(h), strconv.Itoa(s), false},
	} {
		var d struct {
			Kernel struct {
				Resources []struct {
					Name   string `json:"name"`
					Same   *bool  `json:"same"`
					Agrees *bool  `json:"agrees_with_kcmp"`
				} `json:"resources"`
			} `json:"kernel"`
		}
		if err := json.Unmarshal([]byte(mustRun(t, "compare", "--kernel", "--json", c.a, c.b)), &d); err != nil {
			t.Fatal(err)
		}
		seen := 0
		for _, r := range d.Kernel.Resources {
			if !slices.Contains([]string{"files", "fs", "vm", "sighand"}, r.Name) {
				continue
			}
			seen++
			if r.Same == nil || *r.Same != c.same || r.Agrees == nil || !*r.Agrees {
				t.Errorf("compare --kernel %s %s: %s same %v agrees %v, want same=%t agreeing with kcmp", c.a, c.b, r.Name, r.Same, r.Agrees, c.same)
			}
		}
		if seen != 4 {
			t.Errorf("compare --kernel %s %s: %d of files fs vm sighand", c.a, c.b, seen)
		}
	}
}

// TestKernelFdsWalk walks a sleep's fd table, with a regular file open at
// a known fd, in kernel memory and checks it against /proc read by the
// test itself and against the file.
func TestKernelFdsWalk(t *testing.T) {
	requireKernelViews(t)
	file := filepath.Join(t.TempDir(), "walked file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(file, &st); err != nil {
		t.Fatal(err)
	}
	const fd = 7
	pid := testutil.StartReady(t, "sh", "-c", `exec 7< "$0"; echo ready; exec sleep 1000`, file).Process.Pid
	waitSleeping(t, pid)
	want := testutil.FDs(t, pid)

	var d struct {
		PID   int    `json:"pid"`
		Walk  string `json:"walk"`
		Agree bool   `json:"agree"`
		FDs   []struct {
			FD     int `json:"fd"`
			Kernel *struct {
				Name string `json:"d_name"`
				Ino  uint64 `json:"i_ino"`
				Type string `json:"type"`
			} `json:"kernel"`
			Proc *struct {
				Link  string `json:"readlink"`
				Inode uint64 `json:"inode"`
			} `json:"proc"`
			Disagree []string `json:"disagree"`
		} `json:"fds"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "fds", strconv.Itoa(pid), "--kernel", "--json")), &d); err != nil {
		t.Fatal(err)
	}
	if d.PID != pid || d.Walk != "task->files->fdt->fd[i]->f_path.dentry->d_name.name" || !d.Agree {
		t.Errorf("pid %d walk %q agree %t, want %d, the gdb path, and agreement on a still table", d.PID, d.Walk, d.Agree, pid)
	}
	var got []int
	for _, f := range d.FDs {
		got = append(got, f.FD)
		if f.Kernel == nil || f.Proc == nil {
			t.Errorf("fd %d: kernel %v, proc %v, want both (%v)", f.FD, f.Kernel, f.Proc, f.Disagree)
			continue
		}
		if f.Kernel.Ino != f.Proc.Inode {
			t.Errorf("fd %d: kernel inode %d, /proc %d", f.FD, f.Kernel.Ino, f.Proc.Inode)
		}
		if f.Proc.Link != want[f.FD] {
			t.Errorf("fd %d: readlink %q, the test read %q", f.FD, f.Proc.Link, want[f.FD])
		}
		switch f.FD {
		case fd:
			if f.Kernel.Name != filepath.Base(file) || f.Kernel.Ino != st.Ino || f.Kernel.Type != "reg" {
				t.Errorf("fd %d: d_name %q inode %d type %s, want %q, %d, reg", fd, f.Kernel.Name, f.Kernel.Ino, f.Kernel.Type, filepath.Base(file), st.Ino)
			}
		case 1: // StartReady's pipe: an anonymous dentry, named by d_dname
			if f.Kernel.Name != "" || f.Kernel.Type != "fifo" {
				t.Errorf("fd 1 (a pipe): d_name %q type %s, want \"\" and fifo", f.Kernel.Name, f.Kernel.Type)
			}
		}
	}
	var wantFDs []int
	for n := range want {
		wantFDs = append(wantFDs, n)
	}
	slices.Sort(wantFDs)
	if !slices.Equal(got, wantFDs) {
		t.Errorf("fds %v, the test read %v in /proc/%d/fd", got, wantFDs, pid)
	}
}

// waitSleeping waits until the sleep that pid exec's is asleep in
// clock_nanosleep. Its comm changes at exec, before the dynamic loader
// opens (and closes) the libraries on fd 3: only once the process sleeps
// (state S; the loader never does) is its fd table still.
func waitSleeping(t *testing.T, pid int) {
	t.Helper()
	testutil.WaitComm(t, pid, "sleep")
	path := "/proc/" + strconv.Itoa(pid) + "/stat"
	for i := 0; i < 2000; i++ { // 10 s, as WaitComm
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:])); len(f) > 0 && f[0] == "S" {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("sleep %d never went to sleep", pid)
}

// TestKernelViewsBadInput: bad PIDs are exit 2 and BPF without privilege
// exit 4, each with one line and no Go crash.
func TestKernelViewsBadInput(t *testing.T) {
	requireKernelViews(t)
	checkOneLineError(t, nsinspect(t, "show", "999999999", "--kernel"), 2, "show 999999999 --kernel")
	checkOneLineError(t, nsinspect(t, "fds", "abc", "--kernel"), 2, "fds abc --kernel")
	checkOneLineError(t, nsinspect(t, "fds", "self:1", "--kernel"), 2, "fds self:1 --kernel")
	checkOneLineError(t, nsinspect(t, "nsproxy", "--source", "ebpf"), 2, "nsproxy --source ebpf")
	for _, args := range [][]string{
		{"show", "1", "--kernel"},
		{"show", "self", "--kernel", "--json"},
		{"fds", "self", "--kernel"},
		{"nsproxy", "--source", "bpf"},
	} {
		r := runAs(t, nobody(), args...)
		checkOneLineError(t, r, 4, fmt.Sprintf("%v as nobody", args))
		if r.stdout != "" {
			t.Errorf("%v as nobody printed %q on stdout", args, r.stdout)
		}
	}
}
