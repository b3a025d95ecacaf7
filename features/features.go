package features

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// ID names one kernel interface.
type ID int

const (
	NSGetID ID = iota
	PidfdOpen
	PidfdThread
	PidfdNamespaces
	PidfdGetInfo
	NSMntGetInfo
	Kcmp
	Clone3
	CloneClearSighand
	CloneIntoCgroup
	CloseRange
	TimeNamespaces
	BTF
	Listns
	BPFIterators
	BPFMemcg
	BPFTrampolines
	Kprobes
	count
)

// Feature is what nsinspect knows about one interface before asking.
type Feature struct {
	Name    string `json:"name"`
	Since   string `json:"since"`   // the mainline release that added it
	With    string `json:"with"`    // what nsinspect does with it
	Without string `json:"without"` // what nsinspect does on a kernel without it
}

// Result is a Feature and the kernel's answer to its probe.
type Result struct {
	Feature
	// Present is nil when the probe's answer does not decide the question
	// (an errno that neither interface nor its absence explains).
	Present  *bool  `json:"present"`
	Evidence string `json:"evidence"` // the call made and what it returned
}

// ErrMissing is matched by every error Missing returns.
var ErrMissing = errors.New("kernel feature missing")

// MissingError says which interface a request needs that this kernel lacks.
type MissingError struct {
	Feature
	For string // what needed it: "CLONE_NEWTIME", "pinning pid 42"
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("%s needs %s, which this kernel (Linux %s) does not have: it was added in Linux %s (nsinspect features shows what this kernel has)",
		e.For, e.Name, Kernel().Release, e.Since)
}

func (e *MissingError) Is(target error) bool { return target == ErrMissing }

var (
	once    [count]sync.Once
	results [count]Result
)

// Probe returns the kernel's answer for id, probing on the first call.
func Probe(id ID) Result {
	once[id].Do(func() {
		r := Result{Feature: table[id].Feature}
		present, evidence := table[id].probe()
		if pretendMissing(r.Name) {
			present, evidence = decided(false), evidence+"; reported absent because NSINSPECT_PRETEND_MISSING names it"
		}
		r.Present, r.Evidence = present, evidence
		results[id] = r
	})
	return results[id]
}

// Has reports whether the kernel has id. An undecided probe counts as
// absent.
func Has(id ID) bool {
	p := Probe(id).Present
	return p != nil && *p
}

// Missing returns a *MissingError when the probe found id absent, saying
// that what needs it; nil when id is present or the probe could not
// decide (the caller then makes the call and lets the kernel answer).
func Missing(id ID, what string) error {
	r := Probe(id)
	if r.Present == nil || *r.Present {
		return nil
	}
	return &MissingError{Feature: r.Feature, For: what}
}

// All probes every interface, in a fixed order.
func All() []Result {
	out := make([]Result, count)
	for id := range count {
		out[id] = Probe(id)
	}
	return out
}

// Uname is the running kernel's release and machine.
type Uname struct {
	Release string `json:"release"`
	Machine string `json:"machine"`
}

var uname = sync.OnceValue(func() Uname {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return Uname{Release: "unknown", Machine: "unknown"}
	}
	return Uname{Release: unix.ByteSliceToString(u.Release[:]), Machine: unix.ByteSliceToString(u.Machine[:])}
})

// Kernel returns uname(2)'s release and machine.
func Kernel() Uname { return uname() }

// ReleaseAtLeast reports whether the running kernel's release is at
// least major.minor. Interfaces are probed, never judged by this; it is
// for behaviour that changed without a new interface to probe.
func ReleaseAtLeast(major, minor int) bool {
	v, ok := Version(Kernel().Release)
	return ok && !(v[0] < major || v[0] == major && v[1] < minor)
}

// Version reads "6.1.0-27-cloud-amd64" or "5.3" as {6, 1}.
func Version(s string) ([2]int, bool) {
	parts := strings.SplitN(s, ".", 3)
	if len(parts) < 2 {
		return [2]int{}, false
	}
	minor := parts[1]
	if i := strings.IndexFunc(minor, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minor = minor[:i]
	}
	a, err1 := strconv.Atoi(parts[0])
	b, err2 := strconv.Atoi(minor)
	return [2]int{a, b}, err1 == nil && err2 == nil
}

// Pretended reports whether NSINSPECT_PRETEND_MISSING names id, without
// probing: for a caller that asks the kernel itself, more cheaply than
// the probe would, and must still honour the tests' stand-in for an old
// kernel.
func Pretended(id ID) bool { return pretendMissing(table[id].Name) }

func pretendMissing(name string) bool {
	for _, n := range strings.Split(os.Getenv("NSINSPECT_PRETEND_MISSING"), ",") {
		if strings.TrimSpace(n) == name {
			return true
		}
	}
	return false
}

func decided(b bool) *bool { return &b }

// PidForChildrenBeforeInit reports whether /proc/PID/ns/pid_for_children
// opens as soon as unshare(CLONE_NEWPID) made the namespace, before its
// first task (its init) exists: from Linux 7.1. Before, the link answers
// ENOENT until then (pidns_for_children_get checks child_reaper). No
// interface tells the two apart without making a pid namespace, so the
// release decides.
func PidForChildrenBeforeInit() bool { return ReleaseAtLeast(7, 1) }
