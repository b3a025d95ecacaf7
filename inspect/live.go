package inspect

import (
	"errors"
	"os"
	"slices"
	"sync"

	"github.com/nsinspect/nsinspect/engine"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/tracer"
)

// Live is watch for a server: the tracer over the whole machine, running
// until Close, each event handed to a callback as it comes. What the
// kernel dropped is Lost; why the reader stopped, if it did, Err.
type Live struct {
	t    *tracer.Tracer
	quit chan struct{}
	done chan struct{}
	mu   sync.Mutex
	err  error
}

// StartLive attaches the tracer (ErrPrivilege or ErrUnsupported where it
// cannot be) and calls emit for each event, in order, from one goroutine.
func StartLive(hooks Hooks, emit func(*TraceEvent)) (*Live, error) {
	t, err := openTracer(false, hooks)
	if err != nil {
		return nil, err
	}
	if err := seedDeaths(t); err != nil {
		t.Close()
		return nil, err
	}
	l := &Live{t: t, quit: make(chan struct{}), done: make(chan struct{})}
	evs, errs := read(t, l.quit)
	cc := newCallerContainers()
	go func() {
		defer close(l.done)
		for {
			select {
			case e, ok := <-evs:
				if !ok {
					l.stopped(<-errs)
					return
				}
				emit(cc.event(e))
			case err := <-errs:
				l.stopped(err)
				return
			case <-l.quit:
				return
			}
		}
	}()
	return l, nil
}

func (l *Live) stopped(err error) {
	if errors.Is(err, os.ErrClosed) {
		return
	}
	l.mu.Lock()
	l.err = readError(err)
	l.mu.Unlock()
}

// Err is why the events stopped coming (the reader failed), nil while
// they come.
func (l *Live) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Lost is how many events the kernel dropped so far (a full ring buffer).
func (l *Live) Lost() (uint64, error) { return l.t.Lost() }

// Close stops the events and detaches the tracer.
func (l *Live) Close() error {
	close(l.quit)
	err := l.t.Close()
	<-l.done
	return err
}

// ChangedTypes are the namespace types an event changed: for a fork, the
// types in which the child is not in its caller's namespace; for an
// unshare or setns, the types the call replaced (pid_for_children and
// time_for_children count as pid and time); for a death, the type of
// the namespace that died. None, and for a failed fork: nil.
func ChangedTypes(e *TraceEvent) []namespaces.Type {
	if e.raw.Kind == tracer.Death {
		return []namespaces.Type{e.raw.NSType}
	}
	if e.raw.Kind == tracer.Fork && e.raw.Errno != 0 {
		return nil // no child: nothing changed
	}
	var out []namespaces.Type
	for i, l := range namespaces.Links {
		if e.raw.A.NS[i] != e.raw.B.NS[i] && !slices.Contains(out, l.Type) {
			out = append(out, l.Type)
		}
	}
	return out
}

// HostEntry reports, for a setns event that entered one of the host's
// namespaces (HostNamespaces) from inside a container, that container as
// the event's caller was named (callerContainers: once per pid and mount
// namespace pair, not a /proc read per event); nil for any other event,
// when the host's namespaces are unknown, or when the caller's container
// could not be told (it exited before the event was read, or runs in
// none).
func HostEntry(e *TraceEvent) *engine.Container {
	r := e.raw
	if r == nil || r.Kind != tracer.Setns || r.Errno != 0 || r.FDKind != tracer.FDNSFS {
		return nil
	}
	l := namespaces.LinkIndex(r.FDType.Name())
	host, err := HostNamespaces()
	if l < 0 || err != nil || host[l].Ino != r.FDNS.Ino {
		return nil
	}
	return e.callerWho.m
}
