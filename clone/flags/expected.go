package flags

import "golang.org/x/sys/unix"

// expectations maps each resource of a report to the flag that, by
// clone(2), makes it separate (for namespaces) or shared (for the kcmp
// resources). A resource absent from the flags has the opposite verdict.
var expectations = []struct {
	name       string
	flag       uint64
	sharedWhen bool // the verdict when flag is set
}{
	{"cgroup", unix.CLONE_NEWCGROUP, false},
	{"ipc", unix.CLONE_NEWIPC, false},
	{"mnt", unix.CLONE_NEWNS, false},
	{"net", unix.CLONE_NEWNET, false},
	{"pid", unix.CLONE_NEWPID, false},
	{"pid_for_children", unix.CLONE_NEWPID, false},
	{"time", unix.CLONE_NEWTIME, false},
	{"time_for_children", unix.CLONE_NEWTIME, false},
	{"user", unix.CLONE_NEWUSER, false},
	{"uts", unix.CLONE_NEWUTS, false},
	{"files", unix.CLONE_FILES, true},
	{"fs", unix.CLONE_FS, true},
	{"vm", unix.CLONE_VM, true},
	{"sighand", unix.CLONE_SIGHAND, true},
	{"io", unix.CLONE_IO, true},
	{"sysvsem", unix.CLONE_SYSVSEM, true},
}

// Release is a kernel's major and minor version ({6, 1} for
// "6.1.0-27-cloud-amd64"); the zero Release is older than any kernel.
type Release [2]int

// AtLeast reports whether r is major.minor or later.
func (r Release) AtLeast(major, minor int) bool {
	return r[0] > major || r[0] == major && r[1] >= minor
}

// Expected returns, for each resource name, whether parent and child
// share it after a call with these flags on a kernel of release rel, by
// clone(2) and by the one kernel rule clone(2) leaves out
// (newTimeSharedVM).
func Expected(s Set, rel Release) map[string]bool {
	out := make(map[string]bool, len(expectations))
	for _, e := range expectations {
		out[e.name] = s.Has(e.flag) == e.sharedWhen
	}
	if newTimeSharedVM(s, rel) {
		out["time"] = true
	}
	return out
}

// newTimeSharedVM: with CLONE_NEWTIME and CLONE_VM, Linux 6.2 and later
// create the time namespace but leave the child in the parent's until it
// execs (copy_namespaces calls timens_on_fork only without CLONE_VM, and
// exec switches: "fs/exec: switch timens when a task gets a new mm"),
// because the vDSO's time data page belongs to the shared address space.
// So "time" stays shared and only "time_for_children" is new. Before 6.2
// (6.0 reverted the first try, 133e2d3e81de) copy_namespaces called
// timens_on_fork for every child, and the child enters the new namespace
// at once: measured on Debian's 6.1.
func newTimeSharedVM(s Set, rel Release) bool {
	return s.Has(unix.CLONE_NEWTIME) && s.Has(unix.CLONE_VM) && rel.AtLeast(6, 2)
}

// ExpectedReason is the clone(2) sentence behind an expectation.
func ExpectedReason(s Set, rel Release, name string) string {
	for _, e := range expectations {
		if e.name != name {
			continue
		}
		if name == "time" && newTimeSharedVM(s, rel) {
			return "CLONE_NEWTIME with CLONE_VM: the child enters the new time namespace only at execve (Linux 6.2 on)"
		}
		if name == "time" && s.Has(unix.CLONE_NEWTIME) && s.Has(unix.CLONE_VM) {
			return "CLONE_NEWTIME given; before Linux 6.2 a CLONE_VM child enters the new time namespace at once"
		}
		fname := Set(e.flag).String()
		if s.Has(e.flag) {
			return fname + " given"
		}
		return "no " + fname
	}
	return ""
}
