package inspect

import (
	"context"
	"time"

	"github.com/nsinspect/nsinspect/engine"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/procinfo"
	"github.com/nsinspect/nsinspect/tracer"
)

// TraceContainer is the container an event's caller runs in, as the
// engine names it.
type TraceContainer struct {
	Engine string `json:"engine"`
	ID     string `json:"id"` // the engine's id, 12 digits for a hex one
	Name   string `json:"name,omitempty"`
}

// callerContainers names the container of each event's caller. A
// container's tasks share its pid and mount namespaces, so the engine is
// asked once per pair of them (engine.Match: the caller's cgroup, else
// conmon, runc's state, containerd's tasks), not once per event; the
// pair of nsinspect's own is the host's and is never asked. An answer is
// kept only when the caller was still in that pair after the lookup (its
// PID could have been reused meanwhile). "None" is believed for noneFor,
// and even then each event's caller has its cgroup read again: a
// runtime's task enters a container's namespaces before its cgroup
// (docker exec: runc's init forks there, then is moved, then execs).
type callerContainers struct {
	host  [2]uint64 // nsinspect's namespaces of scopeLinks
	known map[[2]uint64]knownContainer
}

type knownContainer struct {
	c     *TraceContainer
	who   callerIdentity
	until time.Time // for none: when to ask again
}

// callerIdentity is what event rules (EventChecker) select an event's
// caller on: its container as the engine knows it, none (a host
// process), or unknown, and why.
type callerIdentity struct {
	m        *engine.Container // nil: no container, or unknown
	identErr string            // why the engine could not name m
	unknown  string            // why the caller's container could not be told; "" when it was
}

// noneFor is how long "no container" is believed for a namespace pair.
const noneFor = time.Second

// maxCallerContainers bounds the namespace pairs remembered; past it the
// memory starts over.
const maxCallerContainers = 4096

// newCallerContainers starts with nothing known. Where nsinspect's own
// namespaces cannot be read, no pair is taken for the host's and every
// pair is asked about once.
func newCallerContainers() *callerContainers {
	c := &callerContainers{known: map[[2]uint64]knownContainer{}}
	c.host, _ = ownScope()
	return c
}

// event is r as the contract's event, its caller's container named.
func (c *callerContainers) event(r *tracer.Event) *TraceEvent {
	e := traceEvent(r)
	c.annotate(e)
	return e
}

// annotate sets e.Caller.Container where the caller runs in a container.
func (c *callerContainers) annotate(e *TraceEvent) {
	r := e.raw
	if r == nil || e.Caller == nil || r.Kind == tracer.Exit {
		return // an exit record has no namespaces to key on
	}
	t := &r.A // the caller as e.Caller shows it: after the call for unshare, setns and exec
	if r.Kind == tracer.Unshare || r.Kind == tracer.Setns || r.Kind == tracer.Exec {
		t = &r.B
	}
	key := [2]uint64{t.NS[scopeLinks[0]].Ino, t.NS[scopeLinks[1]].Ino}
	if key == c.host {
		return
	}
	if key[0] == 0 || key[1] == 0 || t.TGID == 0 {
		e.callerWho.unknown = "the kernel gave no pid and mount namespace for the caller"
		return
	}
	k, ok := c.known[key]
	if ok && k.c != nil {
		e.Caller.Container, e.callerWho = k.c, k.who
		return
	}
	// Within noneFor of a "none", only the caller's cgroup is read
	// again (one file), not the engines asked.
	cheap := ok && time.Now().Before(k.until)
	found, ok := c.lookup(t.TGID, key, cheap)
	if cheap && found.c == nil {
		return // "none", believed for these namespaces a moment ago
	}
	if !ok {
		e.callerWho.unknown = "it exited or changed namespaces before its container could be looked up"
		return
	}
	if len(c.known) >= maxCallerContainers {
		clear(c.known)
	}
	if found.c == nil {
		found.until = time.Now().Add(noneFor)
	}
	c.known[key] = found
	e.Caller.Container, e.callerWho = found.c, found.who
}

// lookup asks the engines for the container of process pid (with
// cgroupOnly, only its cgroup: engine.FromCgroups), and says whether the
// answer is pid's in the namespaces of key.
func (c *callerContainers) lookup(pid int, key [2]uint64, cgroupOnly bool) (knownContainer, bool) {
	p, err := procinfo.Open(pid)
	if err != nil {
		return knownContainer{}, false
	}
	defer p.Close()
	cgs, err := p.Cgroups()
	if err != nil {
		return knownContainer{}, false
	}
	var m *engine.Container
	if cgroupOnly {
		m = engine.FromCgroups(cgs)
	} else {
		m = engine.Match(pid, cgs)
	}
	for i, l := range scopeLinks {
		ns, err := p.Namespace(namespaces.Links[l].Name)
		if err != nil || ns.Ino != key[i] {
			return knownContainer{}, false
		}
	}
	if m == nil {
		return knownContainer{}, true
	}
	// Its name, once per container: the engine is asked (within
	// engine.Timeout); without an answer the id alone names it.
	ctx, cancel := context.WithTimeout(context.Background(), engine.Timeout)
	k := knownContainer{who: callerIdentity{m: m}}
	if err := engine.Identify(ctx, m); err != nil {
		k.who.identErr = OneLine(err.Error())
	}
	cancel()
	k.c = &TraceContainer{Engine: m.Engine, ID: m.ShortID(), Name: m.Name}
	return k, true
}
