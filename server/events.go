package server

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/policy"
)

// Events is serve --events: the machine's clone, unshare and setns calls
// as they happen (inspect.StartLive), counted for /metrics and streamed
// to /api/events clients as Server-Sent Events, each event the JSON of
// `watch --json`. A client has a buffer of its own (eventBuffer events);
// one that lets it fill, because it reads slower than events come, is
// dropped (told so in a last `event: dropped`) and counted, so that no
// client ever holds the others or the tracer back.
type Events struct {
	// EngineTimeout bounds a container lookup for ?container= (0: one
	// second).
	EngineTimeout time.Duration

	live *inspect.Live

	// policy is serve's --policy; its event rules are checked on every
	// event (one goroutine publishes, so the checker needs no lock).
	policy    *PolicyFile
	checker   *inspect.EventChecker
	checkerOf *policy.Policy

	mu      sync.Mutex
	clients map[*eventClient]struct{}

	events  *prometheus.CounterVec // by event and namespace type changed
	entries *prometheus.CounterVec // setns into a host namespace, by container
	dropped prometheus.Counter

	born       *prometheus.CounterVec // namespaces made by a fork or unshare, by type
	died       *prometheus.CounterVec // namespaces the kernel freed, by type
	violations *prometheus.CounterVec // event rules violated, by rule and caller
	undecided  *prometheus.CounterVec // event rules not decided, by rule
}

type eventClient struct {
	filter inspect.WatchFilter
	ch     chan []byte
	gone   chan struct{} // closed when the client was dropped
}

const (
	// eventBuffer is how many events wait for one client before it is
	// dropped.
	eventBuffer = 256
	// maxEventClients bounds the streams served at once (429 beyond).
	maxEventClients = 16
	// eventWriteWait bounds one write to a client: a client that does not
	// read for this long is dropped with its connection.
	eventWriteWait = 10 * time.Second
	// keepAlive is how often an idle stream gets a comment line, which
	// keeps proxies from closing it and finds clients that went away.
	keepAlive = 15 * time.Second
)

// newEvents registers the events' metrics on reg; the events come from
// publish (StartEvents wires the tracer to it).
func newEvents(reg prometheus.Registerer) *Events {
	e := &Events{
		clients: map[*eventClient]struct{}{},
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nsinspect_namespace_events_total",
			Help: "clone, unshare, setns and exec calls and namespace deaths seen since serve started, by event (fork, unshare, setns, exec, death) and by namespace type the call changed (none: it changed none; a fork whose child is in another net namespace than its caller changed net; a death: the type of the namespace that died).",
		}, []string{"event", "type"}),
		entries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nsinspect_container_host_namespace_entries_total",
			Help: "setns calls by a process of a container into one of the host's (the initial) namespaces, by container engine, id (12 digits) and namespace type.",
		}, []string{"engine", "id", "type"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nsinspect_event_clients_dropped_total",
			Help: "/api/events clients dropped because they read slower than events came (more than 256 events waited for them).",
		}),
	}
	e.born = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nsinspect_namespaces_born_total",
		Help: "Namespaces made by a clone or unshare since serve started, by type (the event's born list).",
	}, []string{"type"})
	e.violations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nsinspect_policy_event_violations_total",
		Help: "Events that an event rule (forbid:) of --policy forbids, since serve started, by rule and by the caller's container engine and id (12 digits; engine host and id \"\" for a host process, unknown where the caller exited before its container was known).",
	}, []string{"rule", "engine", "id"})
	e.undecided = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nsinspect_policy_event_undecided_total",
		Help: "Events for which an event rule of --policy could not be decided (the caller's container or identity unknown, the host's namespaces unreadable), by rule. Never counted as holding.",
	}, []string{"rule"})
	e.died = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nsinspect_namespaces_died_total",
		Help: "Namespaces the kernel freed since serve started, by type: those an earlier event named (a fork, unshare or setns that touched them). Counted only where the kernel takes a kprobe on proc_free_inum (nsinspect features).",
	}, []string{"type"})
	reg.MustRegister(e.events, e.entries, e.dropped, e.born, e.died, e.violations, e.undecided)
	return e
}

// StartEvents attaches the tracer and starts counting and streaming; the
// error is inspect's (ErrPrivilege without CAP_BPF and CAP_PERFMON,
// ErrUnsupported before Linux 5.8).
func StartEvents(reg prometheus.Registerer, pol *PolicyFile, hooks inspect.Hooks) (*Events, error) {
	e := newEvents(reg)
	e.policy = pol
	live, err := inspect.StartLive(hooks, e.publish)
	if err != nil {
		return nil, err
	}
	e.live = live
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "nsinspect_events_lost_total",
		Help: "events the kernel dropped because the tracer's ring buffer was full.",
	}, func() float64 {
		n, _ := live.Lost()
		return float64(n)
	}))
	return e, nil
}

// Close stops the tracer; the streams end with their connections
// (Server.Shutdown).
func (e *Events) Close() error {
	if e == nil || e.live == nil {
		return nil
	}
	return e.live.Close()
}

// publish counts one event and hands it to every client whose filter it
// passes.
func (e *Events) publish(ev *inspect.TraceEvent) {
	types := inspect.ChangedTypes(ev)
	if len(types) == 0 {
		e.events.WithLabelValues(ev.Event, "none").Inc()
	}
	for _, t := range types {
		e.events.WithLabelValues(ev.Event, t.Name()).Inc()
	}
	for _, n := range ev.Born {
		e.born.WithLabelValues(n.Type.Name()).Inc()
	}
	if n := ev.Namespace; n != nil {
		e.died.WithLabelValues(n.Type.Name()).Inc()
	}
	e.checkPolicy(ev)
	if c := inspect.HostEntry(ev); c != nil {
		id := c.ID
		if len(id) > 12 {
			id = id[:12]
		}
		e.entries.WithLabelValues(c.Engine, id, ev.Entered.Type.Name()).Inc()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.clients) == 0 {
		return
	}
	line, err := json.Marshal(ev)
	if err != nil {
		return
	}
	for c := range e.clients {
		if !c.filter.Match(ev) {
			continue
		}
		select {
		case c.ch <- line:
		default:
			e.drop(c)
		}
	}
}

// checkPolicy counts the event rules of the policy in force that ev
// violates or leaves undecided.
func (e *Events) checkPolicy(ev *inspect.TraceEvent) {
	if e.policy == nil {
		return
	}
	pol := e.policy.current()
	if pol != e.checkerOf {
		e.checker, e.checkerOf = nil, pol
		if pol != nil {
			e.checker, _ = inspect.NewEventChecker(pol) // nil: no event rules
		}
	}
	if e.checker == nil {
		return
	}
	for _, v := range e.checker.Check(ev) {
		if v.Undecided != "" {
			e.undecided.WithLabelValues(v.Rule).Inc()
			continue
		}
		engine, id := v.Target.Engine, v.Target.ID
		if engine == "" {
			engine = "unknown"
		}
		e.violations.WithLabelValues(v.Rule, engine, id[:min(len(id), 12)]).Inc()
	}
}

// drop ends client c (e.mu held).
func (e *Events) drop(c *eventClient) {
	delete(e.clients, c)
	close(c.gone)
	e.dropped.Inc()
}

func (e *Events) subscribe(f inspect.WatchFilter) (*eventClient, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.clients) >= maxEventClients {
		return nil, Errorf(http.StatusTooManyRequests, "busy", "%d event streams are open already; retry", maxEventClients)
	}
	c := &eventClient{filter: f, ch: make(chan []byte, eventBuffer), gone: make(chan struct{})}
	e.clients[c] = struct{}{}
	return c, nil
}

func (e *Events) unsubscribe(c *eventClient) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.clients[c]; ok {
		delete(e.clients, c)
	}
}

// Endpoint is /api/events; with a nil e (serve without --events) it
// answers 503.
func (e *Events) Endpoint() Endpoint {
	return Endpoint{Path: "/api/events", Params: []string{"type", "pid", "comm", "container"}, Stream: e.stream}
}

func (e *Events) stream(w http.ResponseWriter, r *http.Request, q Query) error {
	if e == nil {
		return Errorf(http.StatusServiceUnavailable, "events_off", "no events: serve was started without --events")
	}
	pid := 0
	if s := q.Get("pid"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return BadRequest("bad_pid", "pid %q: a positive process id", s)
		}
		pid = n
	}
	f, err := inspect.NewWatchFilter(pid, q.Get("comm"), q.Get("type"))
	if err != nil {
		return BadRequest("bad_type", "%s", inspect.OneLine(err.Error()))
	}
	if s := q.Get("container"); s != "" {
		timeout := e.EngineTimeout
		if timeout == 0 {
			timeout = time.Second
		}
		sc, err := inspect.NewScope(r.Context(), s, timeout)
		if err != nil {
			return FromError(err, "target")
		}
		defer sc.Close()
		f.In = sc.NS
	}
	if e.live != nil {
		if err := e.live.Err(); err != nil {
			return FromError(err, "")
		}
	}
	c, err := e.subscribe(f)
	if err != nil {
		return err
	}
	defer e.unsubscribe(c)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	rc := http.NewResponseController(w)
	write := func(s string) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(eventWriteWait))
		if _, err := io.WriteString(w, s); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write(": nsinspect events (the JSON of watch --json, schema/trace.json)\n\n") {
		return nil
	}
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-c.gone:
			write("event: dropped\ndata: {\"reason\":\"this client read slower than events came: more than " + strconv.Itoa(eventBuffer) + " waited\"}\n\n")
			return nil
		case line := <-c.ch:
			if !write("data: " + string(line) + "\n\n") {
				return nil
			}
		case <-tick.C:
			if !write(": keepalive\n\n") {
				return nil
			}
		}
	}
}
