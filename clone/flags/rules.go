package flags

import (
	"fmt"
	"slices"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// rule is one restriction clone(2) documents, used only to explain an
// errno the kernel actually returned: the call is always made, and the
// kernel is the judge of what is valid.
type rule struct {
	errno   syscall.Errno
	applies func(Set) bool
	text    string
}

func both(a, b uint64) func(Set) bool {
	return func(s Set) bool { return s.Has(a) && s.Has(b) }
}

func without(a, b uint64) func(Set) bool {
	return func(s Set) bool { return s.Has(a) && !s.Has(b) }
}

func with(a uint64) func(Set) bool {
	return func(s Set) bool { return s.Has(a) }
}

// rules is the errno table, in the order Explain and Restrictions list
// what they find. Made on first use: its texts are formatted, and
// nothing is done at init that a command line may not need.
var rules = sync.OnceValue(func() []rule {
	return slices.Concat(
		pairRules("%s requires %s: %s", without, []flagPair{
			{unix.CLONE_SIGHAND, unix.CLONE_VM, "a shared signal handler table holds handler addresses that are only meaningful in one address space"},
			{unix.CLONE_THREAD, unix.CLONE_SIGHAND, "the threads of a group share one signal handler table"},
		}),
		pairRules("%s cannot be combined with %s: %s", both, []flagPair{
			{unix.CLONE_NEWNS, unix.CLONE_FS, "a shared root and cwd cannot belong to two mount namespaces"},
			{unix.CLONE_NEWUSER, unix.CLONE_FS, "root and cwd cannot be shared across user namespaces"},
			{unix.CLONE_NEWIPC, unix.CLONE_SYSVSEM, "a shared undo list would refer to semaphores of the old IPC namespace"},
			{unix.CLONE_NEWPID, unix.CLONE_THREAD, "all threads of a group are in one PID namespace"},
			{unix.CLONE_NEWUSER, unix.CLONE_THREAD, "all threads of a group are in one user namespace"},
			{unix.CLONE_CLEAR_SIGHAND, unix.CLONE_SIGHAND, "handlers the parent still uses cannot be reset"},
		}),
		[]rule{{unix.EINVAL, both(unix.CLONE_NEWTIME, unix.CLONE_VM),
			"CLONE_NEWTIME cannot be combined with CLONE_VM on this kernel: the vDSO time data is per address space"}},
		intoCgroupRules,
		[]rule{
			{unix.EPERM, func(s Set) bool { return uint64(s)&Namespaces != 0 },
				"creating a namespace other than a user namespace needs CAP_SYS_ADMIN in the caller's user namespace: run as root, or let the lab run inside a new user namespace"},
			{unix.ENOSPC, func(s Set) bool { return uint64(s)&Namespaces != 0 },
				"a namespace limit in /proc/sys/user/max_*_namespaces, or the nesting depth of 32 user or PID namespaces, was reached"},
			{unix.EUSERS, with(unix.CLONE_NEWUSER),
				"the nesting depth of user namespaces (32) was reached"},
			// Flags experiments leave out: Parse refuses them before any call, so
			// these rules only tell `nsinspect explain` what the kernel does.
			{unix.EINVAL, both(unix.CLONE_PIDFD, unix.CLONE_PARENT_SETTID),
				"in clone(2) CLONE_PIDFD returns the pidfd through parent_tid, where CLONE_PARENT_SETTID stores the TID, so the two cannot be combined"},
		},
		pairRules("%s cannot be combined with %s: %s", both, []flagPair{
			{unix.CLONE_PIDFD, unix.CLONE_DETACHED, "the kernel keeps that bit free for pidfds"},
		}),
		[]rule{{unix.EINVAL, with(unix.CLONE_DETACHED), "clone3(2) refuses CLONE_DETACHED (clone(2) ignores it)"}},
	)
})

// intoCgroupRules are the errnos CLONE_INTO_CGROUP alone can bring.
var intoCgroupRules = []rule{
	{unix.EBADF, with(unix.CLONE_INTO_CGROUP), "CLONE_INTO_CGROUP needs an open fd on a cgroup v2 directory in clone_args.cgroup"},
	{unix.EINVAL, with(unix.CLONE_INTO_CGROUP), "CLONE_INTO_CGROUP needs a valid fd (0 to INT_MAX) on a cgroup v2 directory in clone_args.cgroup"},
	{unix.ENOENT, with(unix.CLONE_INTO_CGROUP), "CLONE_INTO_CGROUP's target is outside the caller's cgroup namespace, and the cgroup2 hierarchy is mounted with nsdelegate (systemd's default), which makes a cgroup namespace a delegation boundary (cgroup_attach_permissions)"},
	{unix.EOPNOTSUPP, with(unix.CLONE_INTO_CGROUP), "CLONE_INTO_CGROUP's target is not a valid domain cgroup for a process (a threaded cgroup, or one whose parent is threaded)"},
	{unix.EBUSY, with(unix.CLONE_INTO_CGROUP), "CLONE_INTO_CGROUP's target has controllers enabled in cgroup.subtree_control, so it may hold no processes (cgroup v2's \"no internal processes\" rule)"},
}

// flagPair is a rule about two flags, a and b, and why the kernel has it.
type flagPair struct {
	a, b uint64
	why  string
}

// pairRules makes EINVAL rules of pairs whose text is format over the two
// flags' names and why, so that a text cannot name other flags than its
// rule tests.
func pairRules(format string, applies func(a, b uint64) func(Set) bool, pairs []flagPair) []rule {
	out := make([]rule, 0, len(pairs))
	for _, p := range pairs {
		out = append(out, rule{unix.EINVAL, applies(p.a, p.b), fmt.Sprintf(format, flagName(p.a), flagName(p.b), p.why)})
	}
	return out
}

// flagName is the name of one flag, known or left out.
func flagName(v uint64) string {
	for _, f := range slices.Concat(Known, LeftOut) {
		if f.Value == v {
			return f.Name
		}
	}
	return fmt.Sprintf("%#x", v)
}

// exitSignalRules are the clone(2) and clone3(2) rules about the exit
// signal, which is not in a Set.
var exitSignalRules = []Restriction{
	{"EINVAL", "an exit signal above 64 (_NSIG) is not a signal"},
	{"EINVAL", "clone3(2) refuses an exit signal with CLONE_THREAD (a thread sends none) or CLONE_PARENT (the child gets its caller's exit signal); clone(2) ignores it then"},
}

// Explain lists the clone(2) restrictions that the flags break and that
// produce errno. An empty list means the table knows no reason; the errno
// is reported all the same.
func Explain(s Set, errno syscall.Errno) []string {
	var out []string
	for _, r := range rules() {
		if r.errno == errno && r.applies(s) {
			out = append(out, r.text)
		}
	}
	return out
}

// Restriction is one clone(2) rule under which a flag makes the call
// fail: the errno and why.
type Restriction struct {
	Errno string `json:"errno"`
	Why   string `json:"why"`
}

// Restrictions lists the rules of the errno table that adding flag to a
// call can break, alone or together with one other flag. It is read from
// the same table Explain uses, so the two cannot disagree. For
// ExitSignal's value (CSIGNAL) it lists the rules about the exit signal.
func Restrictions(flag uint64) []Restriction {
	if flag == ExitSignal.Value {
		return exitSignalRules
	}
	var out []Restriction
	for _, r := range rules() {
		if breaks(r, flag) {
			out = append(out, Restriction{Errno: ErrnoName(r.errno), Why: r.text})
		}
	}
	return out
}

// breaks reports whether some call of at most one other flag satisfies r
// only once flag is added.
func breaks(r rule, flag uint64) bool {
	if r.applies(Set(flag)) {
		return true
	}
	for _, f := range append(append([]Flag{}, Known...), LeftOut...) {
		if r.applies(Set(f.Value|flag)) && !r.applies(Set(f.Value)) {
			return true
		}
	}
	return false
}
