package inspect

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/bpfiter"
	"github.com/nsinspect/nsinspect/engine"
	"github.com/nsinspect/nsinspect/features"
	"github.com/nsinspect/nsinspect/internal/nsichild"
	"github.com/nsinspect/nsinspect/procinfo"
)

// The sentinels an answer's error matches with errors.Is. Each belongs to
// one Class; ErrNoSuchTask and ErrNoSuchContainer are bad input too.
var (
	// ErrAssertion: an --expect assertion or a policy rule was checked
	// and does not hold.
	ErrAssertion = errors.New("an assertion does not hold")
	// ErrBadInput: the caller asked for something malformed or absent.
	ErrBadInput = errors.New("bad input")
	// ErrNoSuchTask: the named task does not exist (when it was named).
	ErrNoSuchTask = &kindOf{msg: "no such task", parent: ErrBadInput}
	// ErrNoSuchContainer: the engine answered and has no such container,
	// or it is not running.
	ErrNoSuchContainer = &kindOf{msg: "no such container", parent: ErrBadInput}
	// ErrKernelRefused: the kernel refused the experiment's own clone or
	// unshare; the errno is the result.
	ErrKernelRefused = errors.New("the kernel refused the call")
	// ErrPrivilege: the kernel refused a read or a socket refused us
	// (EACCES, EPERM): more privilege would answer.
	ErrPrivilege = errors.New("not permitted")
	// ErrUnsupported: this kernel or build lacks what the answer needs.
	ErrUnsupported = errors.New("not supported here")
	// ErrUndecided: nsinspect could not find out: an engine down or too
	// slow, a task that vanished mid-read, an I/O error. Never "fine".
	ErrUndecided = errors.New("could not be decided")
)

// kindOf is a sentinel that is also another: errors.Is(ErrNoSuchTask,
// ErrBadInput) holds.
type kindOf struct {
	msg    string
	parent error
}

func (k *kindOf) Error() string { return k.msg }
func (k *kindOf) Unwrap() error { return k.parent }

// Class is what kind of failure an error is: the one fact the exit-code
// table and the HTTP-status table look at.
type Class int

// The classes, from "nothing went wrong" to "could not find out".
const (
	OK Class = iota
	Assertion
	BadInput
	KernelRefused
	Privilege
	Undecided
)

var classNames = [...]string{"ok", "assertion", "bad input", "kernel refused", "privilege", "undecided"}

func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("Class(%d)", int(c))
}

// ClassOf classifies err. An error joined from several (errors.Join, a
// run with a violation and an undecided rule) takes the gravest class
// among them: Undecided over Privilege over the rest, so that a run
// that could not see everything never reads as a plain violation. The
// lower layers' own sentinels are classified here, and only here.
func ClassOf(err error) Class {
	if err == nil {
		return OK
	}
	// The outermost core error decides: its Kind is what it means, its
	// Cause only why (a task named by a PID that is gone is bad input,
	// though the cause says "gone").
	for e := err; e != nil; {
		switch x := e.(type) {
		case *Error:
			return ClassOf(x.Kind)
		case interface{ Unwrap() []error }:
			worst := OK
			for _, c := range x.Unwrap() {
				worst = max(worst, ClassOf(c))
			}
			return worst
		case interface{ Unwrap() error }:
			e = x.Unwrap()
			continue
		}
		break
	}
	switch {
	case errors.Is(err, ErrUndecided):
		return Undecided
	case errors.Is(err, ErrPrivilege), errors.Is(err, ErrUnsupported):
		return Privilege
	case errors.Is(err, ErrKernelRefused):
		return KernelRefused
	case errors.Is(err, ErrBadInput):
		return BadInput
	case errors.Is(err, ErrAssertion):
		return Assertion
	// The lower layers' sentinels.
	case errors.Is(err, features.ErrMissing), errors.Is(err, nsichild.ErrNoCgo),
		errors.Is(err, bpfiter.ErrUnavailable):
		return Privilege
	case errors.Is(err, procinfo.ErrProcessGone):
		return Undecided // it existed when it was named: it vanished mid-read
	case errors.Is(err, engine.ErrNotFound), errors.Is(err, engine.ErrNotRunning),
		errors.Is(err, engine.ErrEngine):
		return BadInput
	case errors.Is(err, engine.ErrNoEngine):
		return Undecided
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		return Privilege
	}
	return Undecided
}

// Error is an answer's failure in one line for a person: what failed,
// why, and what to do. It matches its Kind and its Cause with errors.Is.
type Error struct {
	Kind  error // one of the sentinels above
	Msg   string
	Cause error // may be nil
}

func (e *Error) Error() string { return e.Msg }

// Unwrap gives errors.Is and errors.As both the kind and the cause.
func (e *Error) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Cause}
}

func newf(kind, cause error, format string, a ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, a...), Cause: cause}
}

// BadInputf is bad input: the line says what was wrong and what is wanted.
func BadInputf(format string, a ...any) error { return newf(ErrBadInput, nil, format, a...) }

// Privilegef is a refusal that more privilege would lift.
func Privilegef(format string, a ...any) error { return newf(ErrPrivilege, nil, format, a...) }

// Undecidedf is a question nsinspect could not answer.
func Undecidedf(cause error, format string, a ...any) error {
	return newf(ErrUndecided, cause, format, a...)
}

// Wrap gives err a line of its own while keeping its kind and cause.
func Wrap(kind, cause error, format string, a ...any) error {
	return newf(kind, cause, format, a...)
}

// Assertionf is a checked assertion that does not hold; an empty line
// when the report already said which.
func Assertionf(format string, a ...any) error { return newf(ErrAssertion, nil, format, a...) }
