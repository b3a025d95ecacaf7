package flags

import (
	"fmt"
	"math/bits"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Flag is one clone(2) flag an experiment can use.
type Flag struct {
	Value  uint64
	Name   string // "CLONE_NEWNET"
	Clone3 bool   // only clone3(2) can pass it (NEWTIME collides with the exit-signal byte of clone(2))
	Doc    string // what it does, in clone(2)'s words
}

// Known lists every flag that means something for an experiment, in the
// order clone(2) documents them. CLONE_SETTLS, CLONE_*_SETTID and
// CLONE_CHILD_CLEARTID are left out: they pass addresses, not sharing.
var Known = []Flag{
	{unix.CLONE_NEWNS, "CLONE_NEWNS", false, "child gets a new mount namespace, a copy of the parent's mount table"},
	{unix.CLONE_NEWUTS, "CLONE_NEWUTS", false, "child gets a new UTS namespace: its own hostname and domainname"},
	{unix.CLONE_NEWIPC, "CLONE_NEWIPC", false, "child gets a new IPC namespace: its own SysV IPC objects and POSIX message queues"},
	{unix.CLONE_NEWNET, "CLONE_NEWNET", false, "child gets a new network namespace: only a loopback device, its own routes and sockets"},
	{unix.CLONE_NEWPID, "CLONE_NEWPID", false, "child is PID 1 of a new PID namespace"},
	{unix.CLONE_NEWUSER, "CLONE_NEWUSER", false, "child gets a new user namespace, in which it has every capability"},
	{unix.CLONE_NEWCGROUP, "CLONE_NEWCGROUP", false, "child gets a new cgroup namespace rooted at its current cgroup"},
	{unix.CLONE_NEWTIME, "CLONE_NEWTIME", true, "child gets a new time namespace (clone3 only: in clone(2) the value is the exit-signal byte)"},
	{unix.CLONE_FILES, "CLONE_FILES", false, "parent and child share one file descriptor table (files_struct)"},
	{unix.CLONE_FS, "CLONE_FS", false, "parent and child share root, cwd and umask (fs_struct)"},
	{unix.CLONE_VM, "CLONE_VM", false, "parent and child share the address space (mm_struct)"},
	{unix.CLONE_SIGHAND, "CLONE_SIGHAND", false, "parent and child share the signal handler table (sighand_struct)"},
	{unix.CLONE_THREAD, "CLONE_THREAD", false, "child is a thread in the parent's thread group"},
	{unix.CLONE_SYSVSEM, "CLONE_SYSVSEM", false, "parent and child share one SysV semaphore undo list"},
	{unix.CLONE_IO, "CLONE_IO", false, "parent and child share an I/O context (io_context)"},
	{unix.CLONE_PARENT, "CLONE_PARENT", false, "child's parent is the caller's parent, not the caller"},
	{unix.CLONE_VFORK, "CLONE_VFORK", false, "the caller is suspended until the child exits or execs"},
	{unix.CLONE_PIDFD, "CLONE_PIDFD", false, "the caller gets a pidfd on the child"},
	{unix.CLONE_CLEAR_SIGHAND, "CLONE_CLEAR_SIGHAND", true, "child's signal handlers are reset to SIG_DFL (clone3 only)"},
	{unix.CLONE_INTO_CGROUP, "CLONE_INTO_CGROUP", true, "child starts in the cgroup given by an fd (clone3 only)"},
}

// Namespaces is every CLONE_NEW* flag.
const Namespaces = unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET |
	unix.CLONE_NEWPID | unix.CLONE_NEWUSER | unix.CLONE_NEWCGROUP | unix.CLONE_NEWTIME

var knownMask = func() (m uint64) {
	for _, f := range Known {
		m |= f.Value
	}
	return m
}()

// Set is a set of clone flags.
type Set uint64

// Names lists the flags in the set, in Known order: an empty list, not
// nil, for no flag (a plain fork), so that a report's JSON says [].
func (s Set) Names() []string {
	out := []string{}
	for _, f := range Known {
		if uint64(s)&f.Value != 0 {
			out = append(out, f.Name)
		}
	}
	return out
}

func (s Set) String() string {
	if s == 0 {
		return "0"
	}
	return strings.Join(s.Names(), "|")
}

// Has reports whether every flag of v is in s.
func (s Set) Has(v uint64) bool { return uint64(s)&v == v }

// Count is the number of flags in the set.
func (s Set) Count() int { return bits.OnesCount64(uint64(s)) }

// NeedsClone3 reports whether only clone3(2) can make this call.
func (s Set) NeedsClone3() bool {
	for _, f := range Known {
		if f.Clone3 && s.Has(f.Value) {
			return true
		}
	}
	return false
}

// Clone3Reason names what makes a call with s need clone3(2): its
// clone3-only flags, or "--clone3" when forced is the only reason.
func (s Set) Clone3Reason(forced bool) string {
	var names []string
	for _, f := range Known {
		if f.Clone3 && s.Has(f.Value) {
			names = append(names, f.Name)
		}
	}
	if len(names) == 0 && forced {
		return "--clone3"
	}
	return strings.Join(names, "|")
}

// Parse reads flags as people write them: the course notes'
// 'CLONE_NEWNET|CLONE_FILES', short forms "newnet,files" or "net,files"
// (separators '|', ',', '+' or spaces; case does not matter), or a number
// ("0x40000400", "1073742848"). A number may only hold known flags.
func Parse(s string) (Set, error) {
	if strings.TrimSpace(s) == "" || strings.Trim(s, "|,+ \t") == "" {
		return 0, fmt.Errorf("no clone flags in %q: name at least one, e.g. 'CLONE_NEWNET|CLONE_FILES' or net,files (see 'nsinspect explain')", s)
	}
	// Operands are separated by |, comma or +; within one, spaces separate
	// words too. An operator with nothing on one side ("CLONE_NEWNET|")
	// is a typo, not a shorter list.
	var fields []string
	for _, operand := range splitOperators(s) {
		words := strings.Fields(operand)
		if len(words) == 0 {
			return 0, fmt.Errorf("dangling operator in clone flags %q: a |, comma or + with no flag on one side (e.g. 'CLONE_NEWNET|CLONE_FILES')", s)
		}
		fields = append(fields, words...)
	}
	var set Set
	for _, w := range fields {
		v, err := parseWord(w)
		if err != nil {
			return 0, err
		}
		set |= Set(v)
	}
	return set, nil
}

// splitOperators splits s at every |, comma and +, keeping the empty
// operands that two operators in a row, or one at either end, leave.
func splitOperators(s string) []string {
	var out []string
	start := 0
	for i, r := range s {
		if r == '|' || r == ',' || r == '+' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func parseWord(w string) (uint64, error) {
	if w[0] >= '0' && w[0] <= '9' {
		v, err := strconv.ParseUint(w, 0, 64)
		if err != nil {
			return 0, fmt.Errorf("bad clone flag number %q: want decimal or 0x-prefixed hex, e.g. 0x40000400", w)
		}
		if extra := v &^ knownMask; extra != 0 {
			return 0, fmt.Errorf("clone flag number %q holds bits nsinspect does not experiment with: %#x (known flags: %s)", w, extra, knownNames())
		}
		return v, nil
	}
	k := strings.ToUpper(w)
	k = strings.TrimPrefix(k, "CLONE_")
	for _, f := range Known {
		short := strings.TrimPrefix(f.Name, "CLONE_")
		if k == short || (strings.HasPrefix(short, "NEW") && k == short[3:]) || (f.Value == unix.CLONE_NEWNS && (k == "MNT" || k == "NEWMNT" || k == "MOUNT")) {
			return f.Value, nil
		}
	}
	return 0, fmt.Errorf("unknown clone flag %q (known: %s)", w, knownNames())
}

func knownNames() string {
	names := make([]string, len(Known))
	for i, f := range Known {
		names[i] = f.Name
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// ErrnoName is the errno's C name ("EINVAL"), as reports print it.
func ErrnoName(e syscall.Errno) string {
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	return fmt.Sprintf("errno %d", int(e))
}
