package discover

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/features"
	"github.com/nsinspect/nsinspect/internal/linux"
	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/procinfo"
)

func taskOf(m *model.Model, pid, tid int) *model.Task {
	for _, t := range m.Tasks {
		if t.PID == pid && t.TID == tid {
			return t
		}
	}
	return nil
}

// With Options.Tasks a pass records every thread with its own links: a
// thread that unshared its uts namespace is a task in that namespace,
// and its leader is not.
func TestTasksThreads(t *testing.T) {
	testutil.RequireRoot(t)
	tid := testutil.ThreadUnshare(t, unix.CLONE_NEWUTS)
	m := mustDiscover(t, Options{Tasks: true})
	self := os.Getpid()
	leader, thread := taskOf(m, self, self), taskOf(m, self, tid)
	if leader == nil || thread == nil {
		t.Fatalf("tasks %d:%d (%v) and %d:%d (%v): want both recorded", self, self, leader, self, tid, thread)
	}
	lu, _ := leader.Link("uts")
	tu, _ := thread.Link("uts")
	if lu == nil || tu == nil || lu == tu {
		t.Fatalf("uts of leader %v and thread %v: want two namespaces", lu, tu)
	}
	if !tu.OnlyHierarchy() && tu.Sources&model.FromThread == 0 {
		t.Errorf("thread's uts sources %v, want thread", tu.Sources)
	}
	if ln, _ := leader.Link("net"); ln == nil {
		t.Error("leader's net link missing")
	} else if tn, _ := thread.Link("net"); tn != ln {
		t.Errorf("thread's net %v is not its leader's %v: one namespace must be one *Namespace", tn, ln)
	}
	if thread.Comm == "" || thread.PPID != leader.PPID || thread.Kernel {
		t.Errorf("thread comm %q ppid %d kernel %v; want a comm, ppid %d, not kernel", thread.Comm, thread.PPID, thread.Kernel, leader.PPID)
	}
	// Without Options.Tasks nothing is recorded, and the thread's
	// namespace is still found.
	lean := mustDiscover(t, Options{})
	if len(lean.Tasks) != 0 {
		t.Errorf("lean pass recorded %d tasks, want none", len(lean.Tasks))
	}
	if lean.Lookup(tu.NS) == nil {
		t.Errorf("lean pass misses the thread's uts namespace %v", tu.NS)
	}
}

// Kernel threads are tasks with PF_KTHREAD: every process whose stat
// flags say so, before and after the pass, is recorded as Kernel with its
// affinity, and no user process is.
func TestTasksKernelThreads(t *testing.T) {
	testutil.RequireRoot(t)
	before := kernelPIDs(t)
	m := mustDiscover(t, Options{Tasks: true})
	after := kernelPIDs(t)
	got := map[int]*model.Task{}
	for _, task := range m.Tasks {
		if task.Kernel && !task.IsThread() {
			got[task.PID] = task
		}
	}
	for pid, k := range before {
		if !k || !after[pid] {
			continue // came or went during the pass
		}
		task := got[pid]
		if task == nil {
			t.Errorf("kernel thread %d not recorded as Kernel", pid)
			continue
		}
		if task.Affinity == "" {
			t.Errorf("kernel thread %d (%s): no affinity", pid, task.Comm)
		}
	}
	if me := taskOf(m, os.Getpid(), os.Getpid()); me == nil || me.Kernel || me.Affinity != "" {
		t.Errorf("the test process %+v: want a user task without affinity", me)
	}
}

// kernelPIDs reads every process's stat flags: pid -> PF_KTHREAD.
func kernelPIDs(t *testing.T) map[int]bool {
	t.Helper()
	out := map[int]bool{}
	testutil.EachStat(t, func(pid int, stat string) {
		if st, err := procinfo.ParseStat(stat); err == nil {
			out[pid] = st.IsKthread()
		}
	})
	return out
}

// A zombie is a task that pins only its pid and user namespaces; its
// other links are missing with the reason.
func TestTasksZombie(t *testing.T) {
	testutil.RequireRoot(t)
	cmd := testutil.Command(t, testutil.Held, "true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Wait() })
	pid := cmd.Process.Pid
	waitFor(t, pid, "stat", func(s string) bool { return strings.Contains(s, ") Z ") })
	task := taskOf(mustDiscover(t, Options{Tasks: true}), pid, pid)
	if task == nil || !task.Zombie() {
		t.Fatalf("zombie %d: task %+v, want a zombie", pid, task)
	}
	for i, l := range namespaces.Links {
		pins := l.Name == "pid" || l.Name == "user"
		if (task.NS[i] != nil) != pins {
			t.Errorf("zombie's %s link: %v, want it read only for pid and user", l.Name, task.NS[i])
		}
		if !pins && task.Missing[i] != zombieWhy {
			t.Errorf("zombie's %s link missing because %q, want %q", l.Name, task.Missing[i], zombieWhy)
		}
	}
}

// The kernel's rule for user namespaces, which the one climb relies on:
// NS_GET_USERNS on a user namespace answers its parent, the namespace
// NS_GET_PARENT answers (ioctl_ns(2)). The model then has Owner == Parent
// for every user namespace.
func TestUserNamespaceOwnerIsParent(t *testing.T) {
	testutil.RequireRoot(t)
	pid, _ := testutil.Unshare(t, "--user", "--map-root-user")
	fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/ns/user", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	child, err := namespaces.FromFD(fd)
	if err != nil {
		t.Fatal(err)
	}
	relative := func(get func(int) (int, error)) namespaces.NS {
		rfd, err := get(fd)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(rfd)
		ns, err := namespaces.FromFD(rfd)
		if err != nil {
			t.Fatal(err)
		}
		return ns
	}
	owner, parent := relative(linux.NsGetUserns), relative(linux.NsGetParent)
	if !owner.Same(parent) || owner.Type != namespaces.User {
		t.Fatalf("user ns %v: NS_GET_USERNS %v, NS_GET_PARENT %v; the kernel's rule says one namespace", child, owner, parent)
	}
	m := mustScan(t)
	for _, n := range m.Namespaces {
		if n.Type == namespaces.User && n.Owner != n.Parent {
			t.Errorf("user ns %v: owner %v, parent %v; want one", n.NS, n.Owner, n.Parent)
		}
	}
	n := find(t, m, child)
	if n.Parent == nil || !n.Parent.Same(parent) {
		t.Errorf("user ns %v: parent %v, want %v", child, n.Parent, parent)
	}
}

// A kernel thread's /proc/PID/mountinfo lists the initial mount
// namespace's mounts before Linux 7.3 and nothing from 7.3 (measured on
// Debian's 7.3.4), though its ns/mnt link is the initial one: a pass must
// read a mount namespace's bind mounts through a process whose mountinfo
// is not empty (procworker's errNoMountinfo).
func TestKernelThreadMountinfo(t *testing.T) {
	testutil.RequireRoot(t)
	comm, err := os.ReadFile("/proc/2/comm")
	if err != nil || strings.TrimSpace(string(comm)) != "kthreadd" {
		testutil.Unavailable(t, "pid 2 is not kthreadd: not in the initial pid namespace", "run in the initial pid namespace")
	}
	b, err := os.ReadFile("/proc/2/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	if empty, want := len(b) == 0, features.ReleaseAtLeast(7, 3); empty != want {
		t.Errorf("kthreadd's mountinfo on Linux %s: empty %t, want %t (%d bytes)", features.Kernel().Release, empty, want, len(b))
	}
}
