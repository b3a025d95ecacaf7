package inspect

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/bpfiter"
	"github.com/nsinspect/nsinspect/discover"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/policy"
	"github.com/nsinspect/nsinspect/procinfo"
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
	// In matches an event whose caller or child, before or after it, is
	// in one of these namespaces: a container's (Scope).
	In []ScopeNS
}

// ScopeNS is one namespace of a Scope: the link it is seen through
// (an index into namespaces.Links) and its inode.
type ScopeNS struct {
	Link int
	Ino  uint64
}

// Scope is the namespaces that make a container (or any task) apart from
// nsinspect, for watch --container and /api/events?container=: its pid
// and mount namespaces, those of the two that are not nsinspect's own.
// It holds them open until Close, so that their inodes cannot be reused
// by other namespaces while the filter runs.
type Scope struct {
	Arg string
	NS  []ScopeNS
	h   *namespaces.Holder
}

// scopeLinks are the namespaces.Links indexes of the namespaces that
// tell a container's tasks apart (Scope, callerContainers): its pid
// namespace; one that shares the host's (docker run --pid=host) is still
// told by its mount namespace.
var scopeLinks = [2]int{namespaces.LinkIndex("pid"), namespaces.LinkIndex("mnt")}

// ownScope is nsinspect's own namespaces of scopeLinks, by inode.
func ownScope() ([2]uint64, error) {
	var out [2]uint64
	self, err := procinfo.Open(os.Getpid())
	if err != nil {
		return out, fmt.Errorf("reading nsinspect's own namespaces: %w", err)
	}
	defer self.Close()
	for i, l := range scopeLinks {
		ns, err := self.Namespace(namespaces.Links[l].Name)
		if err != nil {
			return out, fmt.Errorf("reading nsinspect's own namespaces: %w", err)
		}
		out[i] = ns.Ino
	}
	return out, nil
}

// NewScope resolves arg (any target of the grammar: a container's init,
// or a task) and takes the namespaces of scopeLinks in which it is apart
// from nsinspect. A target in all of nsinspect's own is ErrBadInput:
// it would match every event.
func NewScope(ctx context.Context, arg string, timeout time.Duration) (*Scope, error) {
	own, err := ownScope()
	if err != nil {
		return nil, err
	}
	r, err := Resolve(ctx, arg, timeout)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	sc := &Scope{Arg: arg, h: namespaces.NewHolder()}
	for i, l := range scopeLinks {
		name := namespaces.Links[l].Name
		ns, err := r.Proc.NamespaceHeld(name, sc.h)
		if err != nil {
			sc.Close()
			return nil, ReadError(r.Proc, name+" namespace", err)
		}
		if ns.Ino != own[i] {
			sc.NS = append(sc.NS, ScopeNS{Link: l, Ino: ns.Ino})
		}
	}
	if err := r.Proc.Alive(); err != nil {
		sc.Close()
		return nil, ReadError(r.Proc, "namespaces", err)
	}
	if len(sc.NS) == 0 {
		sc.Close()
		return nil, BadInputf("%s is in nsinspect's own pid and mount namespaces, so every event would match: name a container, or use --pid", arg)
	}
	return sc, nil
}

// Close lets the namespaces go.
func (sc *Scope) Close() {
	if sc != nil && sc.h != nil {
		sc.h.Close()
	}
}

// NewWatchFilter is the filter of watch's --pid, --comm and --type and of
// /api/events' pid, comm and type: types is a comma-separated list of
// namespace types ("net,mnt"), "" for any. A negative pid or an unknown
// type is ErrBadInput.
func NewWatchFilter(pid int, comm, types string) (WatchFilter, error) {
	f := WatchFilter{PID: pid, Comm: comm}
	if pid < 0 {
		return f, BadInputf("pid %d: a process id is positive (0: any)", pid)
	}
	if types == "" {
		return f, nil
	}
	for _, s := range strings.Split(types, ",") {
		t, err := namespaces.ParseType(s)
		if err != nil {
			return f, BadInputf("type: %v", err)
		}
		f.Types = append(f.Types, t)
	}
	return f, nil
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
	if len(f.In) > 0 && !f.inScope(r) {
		return false
	}
	if len(f.Types) == 0 {
		return true
	}
	if r.Kind == tracer.Setns && slices.Contains(f.Types, r.FDType) {
		return true
	}
	for _, t := range ChangedTypes(e) {
		if slices.Contains(f.Types, t) {
			return true
		}
	}
	return false
}

// inScope reports whether the caller or the child of r, before or after
// the call, is in one of f.In.
func (f WatchFilter) inScope(r *tracer.Event) bool {
	for _, in := range f.In {
		if in.Link < len(r.A.NS) && (r.A.NS[in.Link].Ino == in.Ino || r.B.NS[in.Link].Ino == in.Ino) {
			return true
		}
	}
	return false
}

// seedDeaths gives the tracer, where it sees deaths, the namespaces
// alive now (one discovery pass, as ls makes it, after the programs are
// attached), so that watch and serve report the deaths of namespaces
// that existed before they started and no event has named.
func seedDeaths(t *tracer.Tracer) error {
	if !t.SeesDeaths() {
		return nil
	}
	m, _, err := Discover("auto", discover.Options{})
	if err != nil {
		return fmt.Errorf("finding the namespaces alive, whose deaths watch reports: %w", err)
	}
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return fmt.Errorf("reading CLOCK_BOOTTIME: %w", err)
	}
	found := make([]namespaces.NS, len(m.Namespaces))
	for i, ns := range m.Namespaces {
		found[i] = ns.NS
	}
	t.Seed(found, uint64(ts.Nano()))
	return nil
}

// openTracer loads the tracer, with its failures as the core's errors.
func openTracer(follow bool, hooks Hooks) (*tracer.Tracer, error) {
	t, err := tracer.Open(tracer.Options{Follow: follow, Hooks: hooks})
	if err != nil {
		return nil, tracerError(err)
	}
	return t, nil
}

// Hooks are the tracer's programs on the system calls: the raw syscall
// tracepoints (the default: every call seen, seccomp refusals included)
// or fentry and fexit (only the calls that reach their function; no cost
// to other system calls). See tracer.Options.
type Hooks = tracer.Hooks

// ParseHooks reads --hooks: "tracepoints" (or "") or "fentry"; anything
// else is bad input.
func ParseHooks(s string) (Hooks, error) {
	h, err := tracer.ParseHooks(s)
	if err != nil {
		return "", BadInputf("%v", err)
	}
	return h, nil
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
	// Notice, when set, is told in one line what the trace waits for
	// once cmd has exited and processes it made still run, and of each
	// followed process that is gone though its exit was not seen.
	Notice func(string)
	// Hooks chooses the programs on the system calls (ParseHooks).
	Hooks Hooks
}

// waitNotice is how long after cmd's exit a trace still waiting for
// processes cmd made says which, and looks for followed processes that
// are gone though the tracer did not see them exit.
const waitNotice = 2 * time.Second

// deathGrace is how long a trace whose processes have all exited still
// waits for the deaths of the namespaces it saw born: the kernel frees a
// net or user namespace from a workqueue after its last holder is gone
// (tens of ms on a quiet machine), and one may outlive its makers.
const deathGrace = time.Second

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
	t, err := openTracer(true, o.Hooks)
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
	cc := newCallerContainers()
	end := &TraceEnd{}
	// known are cmd and the processes of the events emitted: an exit is
	// emitted only for one of them. Go's os/exec forks a child of its
	// own before cmd (a one-time probe of CLONE_PIDFD) that the programs
	// follow like cmd; it exits at once, and is not cmd's.
	known := map[int]bool{cmd.Process.Pid: true}
	// unburied are the namespaces the trace saw born and not yet die.
	unburied := map[uint64]bool{}
	// put emits e, if it is to be shown.
	put := func(e *tracer.Event) error {
		ev := cc.event(e)
		if e.Kind == tracer.Exit && !known[e.A.TGID] {
			return nil
		}
		for _, n := range ev.Born {
			unburied[n.Ino] = true
		}
		if ev.Namespace != nil {
			delete(unburied, ev.Namespace.Ino)
		}
		if ev.Caller != nil {
			known[ev.Caller.PID] = true
		}
		if ev.Child != nil {
			known[ev.Child.PID] = true
		}
		end.Events++
		return emit(ev)
	}
	forwarded, exited, flushed, noticed := false, false, false, false
	var exitedAt time.Time
	var check, grace <-chan time.Time
	graceOver := false
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
			if err := put(e); err != nil {
				return nil, err
			}
			if e.Kind == tracer.Exit || e.Kind == tracer.Death {
				if err := flushWhenAlone(); err != nil {
					return nil, err
				}
			}
		case <-grace:
			// Namespaces seen born outlived the wait (ip netns add
			// binds one to a file): end with what has come.
			grace, graceOver = nil, true
			if err := flushWhenAlone(); err != nil {
				return nil, err
			}
		case err := <-errs:
			if errors.Is(err, tracer.ErrFlushed) {
				// evs is closed (nil once drained): what it still
				// holds came first.
				for e := range orNone(evs) {
					if err := put(e); err != nil {
						return nil, err
					}
				}
				if t.SeesDeaths() && len(unburied) > 0 && !graceOver {
					// Every event until now is read, and namespaces
					// the trace saw born have not died yet: the
					// kernel frees some from a workqueue after their
					// last holder exits. Read on for at most
					// deathGrace; each death flushes again.
					if grace == nil {
						grace = time.After(deathGrace)
					}
					flushed = false
					evs, errs = read(t, quit)
					continue
				}
				return finish(t, end)
			}
			return nil, readError(err)
		case <-done:
			done, exited, exitedAt = nil, true, time.Now()
			end.Reason = "exited"
			exitStatus(end, cmd.ProcessState)
			ticker := time.NewTicker(followedCheck)
			defer ticker.Stop()
			check = ticker.C
			if err := flushWhenAlone(); err != nil {
				return nil, err
			}
		case <-check:
			if !flushed && !o.UntilCmdExits && time.Since(exitedAt) >= waitNotice {
				if err := reviewFollowed(t, o.Notice, &noticed); err != nil {
					return nil, err
				}
			}
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

// reviewFollowed looks at the processes the tracer still follows after
// cmd exited: one that is gone, or a zombie, exited without the tracer
// seeing its last thread go (its record lost, or the kernel's map update
// refused), and is no longer waited for; the others, the first time, are
// named, so that a trace that does not end says why.
func reviewFollowed(t *tracer.Tracer, notice func(string), noticed *bool) error {
	tgids, err := t.Followed()
	if err != nil {
		return Undecidedf(err, "%v", err)
	}
	var alive []string
	for _, tgid := range tgids {
		st, err := procStat(tgid)
		if errors.Is(err, unix.ESRCH) || errors.Is(err, os.ErrNotExist) || st.State == 'Z' || st.State == 'X' {
			if err := t.Unfollow(tgid); err != nil {
				return Undecidedf(err, "%v", err)
			}
			if notice != nil {
				notice(fmt.Sprintf("process %d exited without the tracer seeing its last thread exit: no longer waiting for it", tgid))
			}
			continue
		}
		alive = append(alive, fmt.Sprintf("%d (%s)", tgid, st.Comm))
	}
	if len(alive) > 0 && !*noticed && notice != nil {
		*noticed = true
		notice(fmt.Sprintf("the command exited; waiting for what it made that still runs: %s (--until-cmd-exits ends the trace with the command)",
			strings.Join(alive, ", ")))
	}
	return nil
}

// procStat is process pid's /proc/PID/stat; a process that is gone is
// ESRCH or ErrNotExist. One that cannot be read otherwise is taken as
// alive (the zero Stat, comm "?").
func procStat(pid int) (procinfo.Stat, error) {
	p, err := procinfo.Open(pid)
	if err != nil {
		return procinfo.Stat{Comm: "?"}, err
	}
	defer p.Close()
	st, err := p.Stat()
	if err != nil {
		st.Comm = "?"
	}
	return st, err
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
	if end.LostExits, err = t.LostExits(); err != nil {
		return nil, Undecidedf(err, "%v", err)
	}
	if end.Missed, err = t.Missed(); err != nil {
		return nil, Undecidedf(err, "%v", err)
	}
	end.Unseen = t.Gaps()
	return end, nil
}

// WatchOptions say which events watch emits, when it ends, and which
// policy it checks them against.
type WatchOptions struct {
	Filter   WatchFilter
	Count    int           // end after this many events (0: no limit)
	Duration time.Duration // end after this long (0: no limit)
	// Policy, when set, checks each event that passes Filter against the
	// policy's event rules; Violation is called with each violation and
	// each undecided rule (before the event is emitted), and the end
	// counts them.
	Policy    *EventChecker
	Violation func(policy.EventViolation)
	// Hooks chooses the programs on the system calls (ParseHooks).
	Hooks Hooks
}

// Watch traces the whole machine (every task nsinspect's pid namespace
// sees, but nsinspect) and calls emit for each event that passes
// o.Filter, until o.Count events were emitted, o.Duration passed or a
// signal arrives.
func Watch(o WatchOptions, signals <-chan os.Signal, emit func(*TraceEvent) error) (*TraceEnd, error) {
	f, count, duration := o.Filter, o.Count, o.Duration
	t, err := openTracer(false, o.Hooks)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	if err := seedDeaths(t); err != nil {
		return nil, err
	}
	var timeout <-chan time.Time
	if duration > 0 {
		timer := time.NewTimer(duration)
		defer timer.Stop()
		timeout = timer.C
	}
	quit := make(chan struct{})
	defer close(quit)
	evs, errs := read(t, quit)
	cc := newCallerContainers()
	end := &TraceEnd{}
	// handle emits e if it passes f, and says whether watch is done:
	// count reached (the end's reason then) or emit failed.
	handle := func(e *tracer.Event) (bool, error) {
		ev := traceEvent(e)
		if !f.Match(ev) {
			return false, nil
		}
		cc.annotate(ev)
		if o.Policy != nil {
			for _, v := range o.Policy.Check(ev) {
				if v.Undecided != "" {
					end.Undecided++
				} else {
					end.Violations++
				}
				if o.Violation != nil {
					o.Violation(v)
				}
			}
		}
		end.Events++
		if err := emit(ev); err != nil {
			return true, err
		}
		if count > 0 && end.Events >= count {
			end.Reason = "count"
			return true, nil
		}
		return false, nil
	}
	// stop ends watch after handle said done.
	stop := func(err error) (*TraceEnd, error) {
		if err != nil {
			return nil, err
		}
		return finish(t, end)
	}
	// drain emits what the ring buffer still holds when watch ends by
	// time or signal: events the programs sent before the end that the
	// reader has not taken yet. Flush makes the reader return ErrFlushed
	// once all sent before are read.
	drain := func(reason string) (*TraceEnd, error) {
		end.Reason = reason
		if err := t.Flush(); err != nil {
			return nil, Undecidedf(err, "reading the last events: %v", err)
		}
		for e := range evs {
			if done, err := handle(e); done {
				return stop(err)
			}
		}
		if err := <-errs; !errors.Is(err, tracer.ErrFlushed) {
			return nil, readError(err)
		}
		return finish(t, end)
	}
	for {
		select {
		case e, ok := <-evs:
			if !ok {
				// The reader stopped (watch flushes only at its end):
				// why is on errs.
				return nil, readError(<-errs)
			}
			if done, err := handle(e); done {
				return stop(err)
			}
		case err := <-errs:
			return nil, readError(err)
		case <-timeout:
			return drain("duration")
		case <-signals:
			return drain("signal")
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
