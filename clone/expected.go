package clone

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

// Expected returns, for each resource name, whether clone(2) says parent
// and child share it after a call with these flags.
func Expected(flags FlagSet) map[string]bool {
	out := make(map[string]bool, len(expectations))
	for _, e := range expectations {
		set := flags.Has(e.flag)
		out[e.name] = set == e.sharedWhen
	}
	return out
}

// ExpectedReason is the clone(2) sentence behind an expectation.
func ExpectedReason(flags FlagSet, name string) string {
	for _, e := range expectations {
		if e.name != name {
			continue
		}
		fname := FlagSet(e.flag).String()
		if flags.Has(e.flag) {
			return fname + " given"
		}
		return "no " + fname
	}
	return ""
}
