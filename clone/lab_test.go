//go:build cgo

package clone

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/clone/flags"
	"github.com/nsinspect/nsinspect/clone/report"
	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/verdict"
)

// runLabT runs one experiment in a lab (this test binary re-executes
// itself as the lab: see TestMain).
func runLabT(t *testing.T, spec string, probes bool) *report.Clone {
	t.Helper()
	fs, err := flags.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(Request{Flags: fs, Probes: probes})
	if err != nil {
		t.Fatalf("%s: %v", spec, err)
	}
	return rep
}

// probeAllowedToFail names the probes that cannot decide for a flag set,
// and why that is the kernel's rule rather than a bug.
func probeAllowedToFail(fs flags.Set, probe string) bool {
	// Root only in a new user namespace: no power over the mount and UTS
	// namespaces shared with (and owned by) the parent's user namespace.
	if fs.Has(unix.CLONE_NEWUSER) {
		return (probe == "mount" && !fs.Has(unix.CLONE_NEWNS)) || (probe == "hostname" && !fs.Has(unix.CLONE_NEWUTS))
	}
	return false
}

func checkAgrees(t *testing.T, rep *report.Clone) {
	t.Helper()
	fs := flags.Set(rep.Value)
	if rep.Errno != nil {
		t.Errorf("%s: refused with %s", fs, *rep.Errno)
		return
	}
	if len(rep.Resources) != 16 {
		t.Errorf("%s: %d resources, want 16", fs, len(rep.Resources))
	}
	for _, d := range rep.Disagreements {
		t.Errorf("%s: %s", fs, d)
	}
	for _, p := range rep.Probes {
		if p.Shared == nil && !probeAllowedToFail(fs, p.Name) {
			t.Errorf("%s: probe %s did not decide: %s", fs, p.Name, p.Error)
		}
	}
}

// Every single flag, through a real clone in a lab, with every probe:
// identity, probe and clone(2) must agree. CLONE_SIGHAND and CLONE_THREAD
// alone are refused by the kernel, and the refusal must be explained.
func TestEverySingleFlag(t *testing.T) {
	testutil.RequireRoot(t)
	for _, f := range flags.Known {
		if f.Value == unix.CLONE_INTO_CGROUP {
			continue // needs a cgroup directory: TestIntoCgroup
		}
		t.Run(f.Name, func(t *testing.T) {
			rep := runLabT(t, f.Name, true)
			switch f.Value {
			case unix.CLONE_SIGHAND, unix.CLONE_THREAD:
				if rep.Errno == nil || *rep.Errno != "EINVAL" || len(rep.Explanation) == 0 {
					t.Fatalf("%s alone: errno %v, explanation %q; want EINVAL explained", f.Name, rep.Errno, rep.Explanation)
				}
				return
			}
			checkAgrees(t, rep)
			wantSyscall := "clone"
			if f.Clone3 {
				wantSyscall = "clone3"
			}
			if rep.Syscall != wantSyscall {
				t.Errorf("syscall %s, want %s", rep.Syscall, wantSyscall)
			}
		})
	}
}

// Every pair of flags, as `nsinspect matrix` runs them (one lab for all):
// the kernel accepts or refuses each; an accepted pair must agree
// everywhere, a refused one must be explained by a rule of clone(2).
// Identity only: the probes run in TestEverySingleFlag and TestCombinations.
func TestEveryPair(t *testing.T) {
	testutil.RequireRoot(t)
	set := flags.DefaultMatrix()
	reps, err := RunMatrix(Request{}, set)
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != len(set) {
		t.Fatalf("%d reports for %d experiments", len(reps), len(set))
	}
	refused := 0
	for i, rep := range reps {
		if flags.Set(rep.Value) != set[i] {
			t.Fatalf("report %d is for %s, want %s", i, flags.Set(rep.Value), set[i])
		}
		if rep.Errno != nil {
			refused++
			if len(rep.Explanation) == 0 {
				t.Errorf("%s refused with %s and no clone(2) rule explains it", set[i], *rep.Errno)
			}
			continue
		}
		checkAgrees(t, rep)
	}
	t.Logf("%d experiments, %d refused by the kernel", len(reps), refused)
	if refused == 0 || refused == len(reps) {
		t.Errorf("refused %d of %d: the kernel should refuse some pairs (SIGHAND without VM) and accept others", refused, len(reps))
	}
}

// A broad set of combinations with every probe.
func TestCombinations(t *testing.T) {
	testutil.RequireRoot(t)
	for _, spec := range []string{
		"CLONE_NEWNET|CLONE_FILES",
		"vm,sighand,thread,files,fs,io,sysvsem",
		"vm,sighand,files,fs",
		"newuser,newns,newuts,newipc,newnet,newpid,newcgroup,newtime",
		"newuser,newns",
		"newpid,vfork,vm",
		"newns,newipc,files,vm",
		"fs,io,sysvsem,parent",
		"newtime,files",
		"pidfd,newnet",
		"clear_sighand,files",
		"vfork,files,fs",
	} {
		t.Run(spec, func(t *testing.T) { checkAgrees(t, runLabT(t, spec, true)) })
	}
}

// What the flags do to the relation between the two tasks.
func TestRelations(t *testing.T) {
	testutil.RequireRoot(t)
	rep := runLabT(t, "vm,sighand,thread", false)
	if !rep.Relation.SameThreadGroup || rep.Child.Tgid != rep.Parent.PID || rep.Child.TID == rep.Parent.PID {
		t.Errorf("CLONE_THREAD: relation %+v, child tgid %d tid %d, parent %d", rep.Relation, rep.Child.Tgid, rep.Child.TID, rep.Parent.PID)
	}
	rep = runLabT(t, "parent", false)
	if rep.Relation.ChildPPid != rep.Relation.ParentPPid || rep.Relation.ChildPPid == rep.Parent.PID {
		t.Errorf("CLONE_PARENT: child's ppid %d, parent's ppid %d, parent %d", rep.Relation.ChildPPid, rep.Relation.ParentPPid, rep.Parent.PID)
	}
	rep = runLabT(t, "vfork", false)
	if !rep.Relation.VforkSuspended {
		t.Errorf("CLONE_VFORK: the parent was not found suspended")
	}
	rep = runLabT(t, "pidfd", false)
	if rep.Relation.ParentPidfd == nil || rep.Relation.PidfdTarget != fmt.Sprintf("pid %d", rep.Child.PID) {
		t.Errorf("CLONE_PIDFD: pidfd %v -> %q, child %d", rep.Relation.ParentPidfd, rep.Relation.PidfdTarget, rep.Child.PID)
	}
	rep = runLabT(t, "newpid", false)
	// The pids are nsinspect's (the lab's are one level down): the
	// child has one level more than its parent, and is 1 in the new one.
	if n := rep.Relation.ChildNSpid; len(n) != len(rep.Parent.NSpid)+1 || n[len(n)-1] != 1 || n[0] != rep.Child.PID {
		t.Errorf("CLONE_NEWPID: NSpid %v (parent's %v), want [%d ... 1] one level deeper", n, rep.Parent.NSpid, rep.Child.PID)
	}
	usr1 := fmt.Sprintf("%016x", uint64(1)<<(unix.SIGUSR1-1))
	for spec, childCatches := range map[string]bool{"files": true, "clear_sighand": false} {
		rep = runLabT(t, spec, false)
		if rep.Parent.SigCgt != usr1 {
			t.Errorf("%s: parent SigCgt %s, want %s (its SIGUSR1 handler)", spec, rep.Parent.SigCgt, usr1)
		}
		if got := rep.Child.SigCgt == usr1; got != childCatches {
			t.Errorf("%s: child SigCgt %s; child catches SIGUSR1 = %v, want %v", spec, rep.Child.SigCgt, got, childCatches)
		}
	}
}

// execve ends FILES, VM and SIGHAND sharing; FS, IO and SYSVSEM survive
// (docs/kernel-notes.md), pinned here.
func TestExecView(t *testing.T) {
	testutil.RequireRoot(t)
	fs, _ := flags.Parse("files,fs,vm,sighand,io,sysvsem")
	rep, err := Run(Request{Flags: fs, Exec: true})
	if err != nil {
		t.Fatal(err)
	}
	v := rep.AfterExec
	if v == nil || v.Error != "" {
		t.Fatalf("no exec view: %+v", v)
	}
	want := map[string]bool{"files": false, "vm": false, "sighand": false, "fs": true, "io": true, "sysvsem": true}
	for _, r := range v.Resources {
		if r.Shared == nil || *r.Shared != want[r.Name] {
			t.Errorf("after exec %s: shared %v, want %v (%s)", r.Name, verdict.Of(r.Shared), want[r.Name], r.Evidence)
		}
	}
}

// CLONE_INTO_CGROUP puts the child in the cgroup whose fd clone3 got: a
// fresh cgroup here, which the test removes.
func TestIntoCgroup(t *testing.T) {
	testutil.RequireRoot(t)
	mnt, own, err := CgroupV2()
	if err != nil {
		t.Fatal(err)
	}
	// A sibling of our own cgroup (a cgroup with processes may not have
	// children that take processes: "no internal processes"), or a child
	// of the root cgroup, which is exempt from that rule.
	parent := filepath.Dir(own)
	if own == "/" {
		parent = own
	}
	path := filepath.Join(parent, fmt.Sprintf("nsinspect-test-%d", os.Getpid()))
	dir := filepath.Join(mnt, path)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("making a test cgroup: %v", err)
	}
	t.Cleanup(func() { os.Remove(dir) })
	rep, err := Run(Request{Flags: flags.Set(unix.CLONE_INTO_CGROUP), Cgroup: dir, Host: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Errno != nil {
		t.Fatalf("refused: %s %q", *rep.Errno, rep.Explanation)
	}
	if !hasCgroup(rep.Child, path) || hasCgroup(rep.Parent, path) {
		t.Errorf("child's cgroups %+v, parent's %+v; want only the child in %s", rep.Child.Cgroup, rep.Parent.Cgroup, path)
	}
}

func hasCgroup(s *report.Side, path string) bool {
	p, ok := s.CgroupV2()
	return ok && p == path
}

// A cgroup that cannot be opened is an error before any clone is made.
func TestIntoCgroupBadDir(t *testing.T) {
	testutil.RequireRoot(t)
	fs, _ := flags.Parse("into_cgroup")
	if rep, err := Run(Request{Flags: fs, Cgroup: "/nonexistent"}); err == nil {
		t.Fatalf("CLONE_INTO_CGROUP into /nonexistent: no error, report %+v", rep)
	}
}
