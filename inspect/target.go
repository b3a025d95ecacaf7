package inspect

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nsinspect/nsinspect/engine"
	"github.com/nsinspect/nsinspect/procinfo"
)

// Target is a task as a user names it, parsed but not yet looked up:
//
//	PID, self, PID:TID            a process, or one of its threads
//	docker:NAME                   the init of a Docker container
//	podman:NAME, podman:USER/NAME root's or USER's rootless podman
//	runc:ID, runc:USER/ID         a plain runc container
//	containerd:[NAMESPACE/]ID     a containerd container (namespace k8s.io, then
//	                              the others but moby); ID may be a CRI container name
type Target struct {
	Arg      string // as written
	Engine   string // "" for a task named by number
	Name     string // the container's name or id, for an engine target
	PID, TID int    // for a task named by number (TID == PID for the process)
}

// TargetForms is the grammar in one line, for usage text.
func TargetForms() string {
	return "PID, self, PID:TID, " + strings.Join(engine.TargetForms(), ", ")
}

// ParseTarget checks arg's form without touching /proc or an engine.
func ParseTarget(arg string) (Target, error) {
	t := Target{Arg: arg}
	head, rest, hasColon := strings.Cut(arg, ":")
	if hasColon && engine.Known(head) {
		if rest == "" {
			return t, BadInputf("%q: no container name after %q (want %s:NAME)", arg, head+":", head)
		}
		t.Engine, t.Name = head, rest
		return t, nil
	}
	if head == "self" {
		t.PID = os.Getpid()
	} else {
		n, err := parsePositive(head)
		if err != nil {
			if hasColon && !isNumber(head) {
				return t, BadInputf("%q: unknown engine %q (want %s)", arg, head, TargetForms())
			}
			return t, BadInputf("bad PID %q: %v (want %s)", arg, err, TargetForms())
		}
		t.PID = n
	}
	t.TID = t.PID
	if hasColon {
		n, err := parsePositive(rest)
		if err != nil {
			return t, BadInputf("bad thread id in %q: %v (want PID:TID, both positive numbers)", arg, err)
		}
		t.TID = n
	}
	return t, nil
}

func isNumber(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

func parsePositive(s string) (int, error) {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return 0, errors.New("out of range")
		}
		return 0, errors.New("not a number")
	}
	if n <= 0 {
		return 0, errors.New("must be greater than 0")
	}
	return int(n), nil
}

// Resolved is a target looked up and pinned: Proc is held by a pidfd,
// and every read through it fails with procinfo.ErrProcessGone once the
// task has exited, so a reused PID never lends another task's data.
// Container is what the engine said, for an engine target.
type Resolved struct {
	Target    Target
	Proc      *procinfo.Proc
	Container *engine.Container
}

// Close releases the pin.
func (r *Resolved) Close() error { return r.Proc.Close() }

// Resolve parses arg, asks the engine for a container target (within
// timeout) and pins the task. A task or container that does not exist
// is ErrNoSuchTask or ErrNoSuchContainer; an engine whose socket refuses
// us is ErrPrivilege; one that is down or too slow ErrUndecided.
func Resolve(ctx context.Context, arg string, timeout time.Duration) (*Resolved, error) {
	t, err := ParseTarget(arg)
	if err != nil {
		return nil, err
	}
	if t.Engine == "" {
		p, err := OpenTask(t)
		if err != nil {
			return nil, err
		}
		return &Resolved{Target: t, Proc: p}, nil
	}
	lctx, cancel := context.WithTimeout(ctx, timeout)
	c, err := engine.Lookup(lctx, t.Engine, t.Name)
	cancel()
	if err != nil {
		return nil, engineError(arg, err, timeout)
	}
	p, err := procinfo.Open(c.PID)
	if err != nil {
		if errors.Is(err, procinfo.ErrProcessGone) {
			return nil, Undecidedf(err, "%s: the engine says its init is PID %d, which is gone: is the container restarting? (run again)", arg, c.PID)
		}
		return nil, fmt.Errorf("%s: pinning its init, PID %d: %w", arg, c.PID, err)
	}
	return &Resolved{Target: t, Proc: p, Container: c}, nil
}

// engineError classifies a failed lookup: no such container is bad
// input; a refused socket a privilege; anything else (down, slow, an
// answer that did not parse) undecided. A lookup that ran out of time
// says how long it waited, not which flag sets it: show and compare
// have no --engine-timeout.
func engineError(arg string, err error, timeout time.Duration) error {
	switch {
	case errors.Is(err, engine.ErrNotFound), errors.Is(err, engine.ErrNotRunning):
		return Wrap(ErrNoSuchContainer, err, "%s: %v", arg, err)
	case errors.Is(err, engine.ErrEngine), errors.Is(err, engine.ErrAmbiguous):
		return Wrap(ErrBadInput, err, "%s: %v", arg, err)
	case ClassOf(err) == Privilege:
		return Wrap(ErrPrivilege, err, "%s: %v (run as root, or as a member of the engine's group)", arg, err)
	case errors.Is(err, context.DeadlineExceeded):
		return Undecidedf(err, "%s: %v (the engine did not answer in time, within %v: is it overloaded or stopped?)", arg, err, timeout)
	}
	return Undecidedf(err, "%s: %v", arg, err)
}

// OpenTask pins a task named by number. One that does not exist is
// ErrNoSuchTask, naming it; one the kernel will not let us open is
// ErrPrivilege.
func OpenTask(t Target) (*procinfo.Proc, error) {
	p, err := procinfo.OpenTask(t.PID, t.TID)
	if err == nil {
		return p, nil
	}
	switch {
	case errors.Is(err, procinfo.ErrProcessGone):
		if t.TID != t.PID {
			return nil, Wrap(ErrNoSuchTask, err, "no thread %d in process %d (%q): see /proc/%d/task", t.TID, t.PID, t.Arg, t.PID)
		}
		return nil, Wrap(ErrNoSuchTask, err, "no process with PID %d: it does not exist or has exited (see ps -e)", t.PID)
	case procinfo.IsDenied(err):
		return nil, Wrap(ErrPrivilege, err, "%s", procinfo.DeniedHint(fmt.Sprintf("opening process %d", t.PID)))
	}
	return nil, err
}

// ReadError turns an error from reading a pinned task into what the user
// sees: a task that exited mid-read is undecided, a refusal names the
// capability, anything else keeps its text (undecided too).
func ReadError(p *procinfo.Proc, what string, err error) error {
	switch {
	case errors.Is(err, procinfo.ErrProcessGone):
		return Undecidedf(err, "process %d exited while its %s was read: nothing is reported for it (run again)", p.PID, what)
	case procinfo.IsDenied(err):
		return Wrap(ErrPrivilege, err, "%s", procinfo.DeniedHint(fmt.Sprintf("reading the %s of process %d", what, p.PID)))
	}
	return fmt.Errorf("reading the %s of process %d: %w", what, p.PID, err)
}

// NSReadError is the error for a -p task whose namespace links could not
// be read: the kernel refused (exit 4, saying what it takes), the task
// exited meanwhile or anything else (exit 5, nsinspect could not find out).
func NSReadError(arg string, p *procinfo.Proc, err error) error {
	dir := fmt.Sprintf("/proc/%d/ns", p.PID)
	if p.IsThread() {
		dir = fmt.Sprintf("/proc/%d/task/%d/ns", p.PID, p.TID)
	}
	switch {
	case procinfo.IsDenied(err):
		return Privilegef("-p %s: cannot read its namespaces: %s", arg, procinfo.DeniedHint("reading "+dir))
	case errors.Is(err, procinfo.ErrProcessGone):
		return fmt.Errorf("-p %s: the task exited while %s was read: %w", arg, dir, err)
	}
	return fmt.Errorf("-p %s: reading %s: %w", arg, dir, err)
}

// ReadTask resolves and pins the task named by arg and reads it with
// read: what show and fds print. The error is the read's: a
// PartialRead comes with a report to print (Printable).
func ReadTask[T any](arg string, read func(*procinfo.Proc) (T, error)) (T, error) {
	p, err := openTask(arg)
	if err != nil {
		var zero T
		return zero, err
	}
	defer p.Close()
	return read(p)
}

// Printable reports whether an answer that came with err is to be
// printed before err decides the exit code: no error, or a PartialRead.
func Printable(err error) bool {
	var partial PartialRead
	return err == nil || errors.As(err, &partial)
}
