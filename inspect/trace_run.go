package inspect

import (
	"errors"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/bpfiter"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/tracer"
)

// WatchFilter chooses the events watch prints. Zero fields match all.
type WatchFilter struct {
	// PID matches an event whose caller, child or setns target is in
	// process PID (a thread group).
	PID int
	// Comm matches an event whose caller or child has this comm.
	Comm string
	// Types matches an event that touches a namespace of one of these
	// types: a fork whose child is in another one than its parent, an
	// unshare or setns that replaced one or whose fd is one.
	Types []namespaces.Type
}

// Match reports whether e passes the filter.
func (f WatchFilter) Match(e *TraceEvent) bool {
	r := e.raw
	if f.PID != 0 && r.A.TGID != f.PID && r.B.TGID != f.PID && r.Target != f.PID {
		return false
	}
	if f.Comm != "" && r.A.Comm != f.Comm && r.B.Comm != f.Comm {
		return false
	}
	if len(f.Types) == 0 {
		return true
	}
	if r.Kind == tracer.Setns && slices.Contains(f.Types, r.FDType) {
		return true
	}
	for i, l := range namespaces.Links {
		if slices.Contains(f.Types, l.Type) && r.A.NS[i] != r.B.NS[i] {
			return true
		}
	}
	return false
}

// openTracer loads the tracer, with its failures as the core's errors.
func openTracer(follow bool) (*tracer.Tracer, error) {
	t, err := tracer.Open(tracer.Options{Follow: follow})
	if err != nil {
		return nil, tracerError(err)
	}
	return t, nil
}

// tracerError is the core's error for a tracer that cannot be opened: a
// kernel older than 5.8 is ErrUnsupported, missing privilege, BTF or
// lockdown ErrPrivilege (both exit 4).
func tracerError(err error) error {
	switch {
	case errors.Is(err, tracer.ErrUnsupported):
		return Wrap(ErrUnsupported, err, "cannot trace: %v", err)
	case errors.Is(err, tracer.ErrUnavailable), errors.Is(err, bpfiter.ErrUnavailable):
		return Wrap(ErrPrivilege, err, "cannot trace: %v", err)
	}
	return Undecidedf(err, "cannot trace: %v", err)
}

// read runs t.Read in a goroutine, sending events, then closes evs and
// sends the error that ended it (tracer.ErrFlushed after a Flush,
// os.ErrClosed after Close). It stops when quit is closed.
func read(t *tracer.Tracer, quit <-chan struct{}) (<-chan *tracer.Event, <-chan error) {
	evs, errs := make(chan *tracer.Event, 64), make(chan error, 1)
	go func() {
		for {
			e, err := t.Read()
			if err != nil {
				close(evs)
				errs <- err
				return
			}
			select {
			case evs <- e:
			case <-quit:
				return
			}
		}
	}()
	return evs, errs
}

// TraceOptions change when a trace ends.
type TraceOptions struct {
	// UntilCmdExits ends the trace when cmd exits, even while processes
	// it made still run. Without it the trace ends when cmd and every
	// process followed (cmd's descendants, however they were reparented)
	// have exited.
	UntilCmdExits bool
}

// followedCheck is how often a trace waiting for cmd's descendants looks
// at the followed set itself, in case the exit record that emptied it was
// lost (a full ring buffer).
const followedCheck = time.Second

// Trace starts cmd once the programs are attached, follows it and every
// process it makes, and calls emit for each fork, unshare and setns until
// cmd and every followed process have exited (or cmd alone, with
// o.UntilCmdExits). The first signal on signals is passed on to cmd while
// it runs; a second, or one after cmd exited, ends the trace at once and
// leaves what still runs running. The returned end says how cmd ended:
// trace exits with its ExitCode.
func Trace(cmd *exec.Cmd, o TraceOptions, signals <-chan os.Signal, emit func(*TraceEvent) error) (*TraceEnd, error) {
	t, err := openTracer(true)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	if err := cmd.Start(); err != nil {
		return nil, Wrap(ErrBadInput, err, "cannot start %s: %v", cmd.Path, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	quit := make(chan struct{})
	defer close(quit)
	evs, errs := read(t, quit)
	end := &TraceEnd{}
	forwarded, exited, flushed := false, false, false
	var check <-chan time.Time
	// flushWhenAlone flushes once cmd has exited and, unless
	// o.UntilCmdExits, no followed process is left.
	flushWhenAlone := func() error {
		if !exited || flushed {
			return nil
		}
		if !o.UntilCmdExits {
			following, err := t.Following()
			if err != nil {
				return Undecidedf(err, "%v", err)
			}
			if following {
				return nil
			}
		}
		flushed = true
		if err := t.Flush(); err != nil {
			return Undecidedf(err, "flushing the tracer's events: %v", err)
		}
		return nil
	}
	for {
		select {
		case e, ok := <-evs:
			if !ok {
				evs = nil
				continue
			}
			if e.Kind == tracer.Exit {
				if err := flushWhenAlone(); err != nil {
					return nil, err
				}
				continue
			}
			end.Events++
			if err := emit(traceEvent(e)); err != nil {
				return nil, err
			}
		case err := <-errs:
			if errors.Is(err, tracer.ErrFlushed) {
				// evs is closed (nil once drained): what it still
				// holds came first.
				for e := range orNone(evs) {
					if e.Kind == tracer.Exit {
						continue
					}
					end.Events++
					if err := emit(traceEvent(e)); err != nil {
						return nil, err
					}
				}
				return finish(t, end)
			}
			return nil, readError(err)
		case <-done:
			done, exited = nil, true
			end.Reason = "exited"
			exitStatus(end, cmd.ProcessState)
			ticker := time.NewTicker(followedCheck)
			defer ticker.Stop()
			check = ticker.C
			if err := flushWhenAlone(); err != nil {
				return nil, err
			}
		case <-check:
			if err := flushWhenAlone(); err != nil {
				return nil, err
			}
		case s := <-signals:
			if !forwarded && !exited {
				forwarded = true
				_ = cmd.Process.Signal(s)
				continue
			}
			end.Reason = "signal"
			if end.ExitCode == nil {
				if n, ok := s.(syscall.Signal); ok {
					code := 128 + int(n)
					end.ExitCode = &code
				}
			}
			return finish(t, end)
		}
	}
}

func exitStatus(end *TraceEnd, ps *os.ProcessState) {
	ws, _ := ps.Sys().(syscall.WaitStatus)
	code := ps.ExitCode()
	if ws.Signaled() {
		code = 128 + int(ws.Signal())
		end.Signal = signalName(ws.Signal())
	}
	end.ExitCode = &code
}

func signalName(s syscall.Signal) string {
	if n := unix.SignalName(s); n != "" {
		return n
	}
	return s.String()
}

func finish(t *tracer.Tracer, end *TraceEnd) (*TraceEnd, error) {
	lost, err := t.Lost()
	if err != nil {
		return nil, Undecidedf(err, "%v", err)
	}
	end.Lost = lost
	return end, nil
}

// Watch traces the whole machine (every task nsinspect's pid namespace
// sees, but nsinspect) and calls emit for each event that passes f, until
// count events were emitted (0: no limit), duration passed (0: no limit)
// or a signal arrives.
func Watch(f WatchFilter, count int, duration time.Duration, signals <-chan os.Signal, emit func(*TraceEvent) error) (*TraceEnd, error) {
	t, err := openTracer(false)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	var timeout <-chan time.Time
	if duration > 0 {
		timer := time.NewTimer(duration)
		defer timer.Stop()
		timeout = timer.C
	}
	quit := make(chan struct{})
	defer close(quit)
	evs, errs := read(t, quit)
	end := &TraceEnd{}
	for {
		select {
		case e, ok := <-evs:
			if !ok {
				// The reader stopped (watch never flushes): why is on errs.
				return nil, readError(<-errs)
			}
			ev := traceEvent(e)
			if !f.Match(ev) {
				continue
			}
			end.Events++
			if err := emit(ev); err != nil {
				return nil, err
			}
			if count > 0 && end.Events >= count {
				end.Reason = "count"
				return finish(t, end)
			}
		case err := <-errs:
			return nil, readError(err)
		case <-timeout:
			end.Reason = "duration"
			return finish(t, end)
		case <-signals:
			end.Reason = "signal"
			return finish(t, end)
		}
	}
}

// readError is the core's error for a tracer whose reader stopped.
func readError(err error) error {
	return Undecidedf(err, "reading the tracer's events: %v", err)
}

// orNone is c, or a closed channel for a nil c.
func orNone(c <-chan *tracer.Event) <-chan *tracer.Event {
	if c == nil {
		closed := make(chan *tracer.Event)
		close(closed)
		return closed
	}
	return c
}
