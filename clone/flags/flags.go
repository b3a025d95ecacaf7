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

// Flag is one entry of the table in table.go: a clone(2) flag (or, for
// ExitSignal, the exit-signal byte) and what nsinspect says about it.
type Flag struct {
	Value  uint64
	Name   string // "CLONE_NEWNET"
	Clone3 bool   // only clone3(2) can pass it (NEWTIME collides with the exit-signal byte of clone(2))
	Doc    string // what it does, in clone(2)'s words
	// Effect is what it isolates (a CLONE_NEW* flag) or shares, or what it
	// is for; Since the Linux release that brought it; Proc the /proc
	// files and Calls the ioctls and system calls that show it; Demo the
	// nsinspect command that demonstrates it ("" for a flag left out).
	Effect string
	Since  string
	Proc   []string
	Calls  []string
	Demo   string
	// LeftOut says why an experiment leaves the flag out; "" for a flag
	// experiments run. Parse refuses such a flag with this reason.
	LeftOut string
	// ForChildren is, for CLONE_NEWPID and CLONE_NEWTIME, what the
	// /proc/PID/ns/{pid,time}_for_children link shows.
	ForChildren string
}

// Namespaces is every CLONE_NEW* flag.
const Namespaces = unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET |
	unix.CLONE_NEWPID | unix.CLONE_NEWUSER | unix.CLONE_NEWCGROUP | unix.CLONE_NEWTIME

var (
	knownMask   = mask(Known)
	leftOutMask = mask(LeftOut)
)

func mask(fs []Flag) (m uint64) {
	for _, f := range fs {
		m |= f.Value
	}
	return m
}

// signalBits are the bits of a clone(2) flag word that hold the exit
// signal: CSIGNAL but CLONE_NEWTIME, whose value is the byte's top bit
// (a signal number is at most 64).
const signalBits = unix.CSIGNAL &^ unix.CLONE_NEWTIME

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
// ("0x40000400", "1073742848"). A number may only hold known flags. A flag
// an experiment leaves out (LeftOut) is refused with the reason, and so is
// an exit signal: only a clone(2) call has one (ParseClone).
func Parse(s string) (Set, error) { return parse(s, false) }

// ParseClone is Parse for a clone(2) call, which also takes the exit
// signal as strace prints it ("CLONE_CHILD_SETTID|SIGCHLD") or in a
// number's low byte ("0x40000411"). Every experiment passes SIGCHLD, so
// SIGCHLD adds nothing to the set; another exit signal is refused.
func ParseClone(s string) (Set, error) { return parse(s, true) }

func parse(s string, exitSignal bool) (Set, error) {
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
	var set, left Set
	for _, w := range fields {
		v, err := parseWord(w)
		if err != nil {
			return 0, err
		}
		if sig := syscall.Signal(v & signalBits); sig != 0 {
			if err := checkExitSignal(sig, w, exitSignal); err != nil {
				return 0, err
			}
		}
		set |= Set(v & knownMask)
		left |= Set(v & leftOutMask)
	}
	if left != 0 {
		return 0, leftOutError(left, set)
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

// parseWord reads one word: a number, a flag of the table (Lookup) or
// a signal name, the exit signal (its number, in the signalBits).
func parseWord(w string) (uint64, error) {
	if w[0] >= '0' && w[0] <= '9' {
		v, err := strconv.ParseUint(w, 0, 64)
		if err != nil {
			return 0, fmt.Errorf("bad clone flag number %q: want decimal or 0x-prefixed hex, e.g. 0x40000400", w)
		}
		if extra := v &^ (knownMask | leftOutMask | signalBits); extra != 0 {
			return 0, fmt.Errorf("clone flag number %q holds bits nsinspect does not experiment with: %#x (known flags: %s)", w, extra, knownNames())
		}
		return v, nil
	}
	if sig := unix.SignalNum(strings.ToUpper(w)); sig != 0 {
		return uint64(sig), nil
	}
	if f, ok := lookupFlag(w); ok {
		return f.Value, nil
	}
	return 0, fmt.Errorf("unknown clone flag %q (known: %s; and the exit signal SIGCHLD)", w, knownNames())
}

// checkExitSignal says why the exit signal sig, which word w named,
// cannot be taken.
func checkExitSignal(sig syscall.Signal, w string, exitSignal bool) error {
	name := unix.SignalName(sig)
	if name == "" {
		name = fmt.Sprintf("signal %d", int(sig))
	}
	if !exitSignal {
		return fmt.Errorf("%q holds the exit signal %s (clone(2)'s CSIGNAL byte), not a flag: only a clone(2) call has one ('nsinspect clone', 'nsinspect explain CSIGNAL')", w, name)
	}
	if sig != unix.SIGCHLD {
		return fmt.Errorf("%q holds the exit signal %s: every nsinspect experiment passes SIGCHLD, so that its parent is told of the child's end as after fork(2); write SIGCHLD or leave it out", w, name)
	}
	return nil
}

// leftOutError refuses the flags of left, each with what it does and why
// experiments leave it out, and names what would run without them.
func leftOutError(left, rest Set) error {
	var names, why []string
	for _, f := range LeftOut {
		if left.Has(f.Value) {
			names = append(names, f.Name)
			why = append(why, fmt.Sprintf("%s: %s; left out because %s.", f.Name, f.Doc, f.LeftOut))
		}
	}
	run := "Drop them: with nothing left the call is a plain fork(2), flags 0."
	if rest != 0 {
		run = fmt.Sprintf("Drop them and run the rest: '%s'.", rest)
	}
	return fmt.Errorf("nsinspect's experiments do not run %s. %s %s", andList(names), strings.Join(why, " "), run)
}

// Lookup finds an entry of the table by any name Parse takes for one
// flag, a flag experiments leave out included, or by "CSIGNAL",
// "exit_signal" or a signal name (SIGCHLD) for ExitSignal.
func Lookup(name string) (Flag, bool) {
	w := strings.TrimSpace(name)
	if w == "" {
		return Flag{}, false
	}
	if k := strings.ToUpper(w); k == "CSIGNAL" || k == "EXIT_SIGNAL" || unix.SignalNum(k) != 0 {
		return ExitSignal, true
	}
	if w[0] >= '0' && w[0] <= '9' {
		v, err := strconv.ParseUint(w, 0, 64)
		if err != nil {
			return Flag{}, false
		}
		for _, f := range All() {
			if f.Value == v && f.Value != ExitSignal.Value {
				return f, true
			}
		}
		return Flag{}, false
	}
	return lookupFlag(w)
}

// All is the table: Known, then LeftOut, then ExitSignal.
func All() []Flag {
	out := append(append([]Flag{}, Known...), LeftOut...)
	return append(out, ExitSignal)
}

// lookupFlag finds a flag of Known or LeftOut by its name with or
// without CLONE_, and a CLONE_NEW* flag also without NEW ("net") or as
// mnt/mount for CLONE_NEWNS. Case does not matter.
func lookupFlag(w string) (Flag, bool) {
	k := strings.TrimPrefix(strings.ToUpper(w), "CLONE_")
	for _, f := range append(append([]Flag{}, Known...), LeftOut...) {
		short := strings.TrimPrefix(f.Name, "CLONE_")
		if k == short || (strings.HasPrefix(short, "NEW") && k == short[3:]) || (f.Value == unix.CLONE_NEWNS && (k == "MNT" || k == "NEWMNT" || k == "MOUNT")) {
			return f, true
		}
	}
	return Flag{}, false
}

// andList joins "a, b and c".
func andList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
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
