package server

import (
	"context"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nsinspect/nsinspect/discover"
	"github.com/nsinspect/nsinspect/engine"
	"github.com/nsinspect/nsinspect/inspect"
)

// Options is what a Server is made of: where its passes come from, how
// long one is kept, and what each pass and request adds to the model.
type Options struct {
	// Source runs the discovery passes (inspect.OpenSource's).
	Source discover.Source
	// MinInterval is how long a pass is reused before a request starts
	// the next one.
	MinInterval time.Duration
	// Policy is evaluated on every container of a pass and behind
	// /api/audit; NewPolicyFile("") is a policy with no rules.
	Policy *PolicyFile
	// Kubelet names pods and containers from kubelet's log directories.
	Kubelet Kubelet
	// EngineTimeout bounds audit's questions to a container engine.
	EngineTimeout time.Duration
	// Events attaches the tracer for /api/events and the event counters
	// (serve --events); New then fails where it cannot be attached.
	Events bool
	// EventHooks chooses the tracer's programs on the system calls
	// (inspect.ParseHooks).
	EventHooks inspect.Hooks
}

// Server is nsinspect serve's HTTP side: one discovery pass at a time,
// cached and shared by every request, the Prometheus metrics drawn from
// it, and the read-only API. Listening and signals are the caller's.
type Server struct {
	http   *http.Server
	cache  *Cache[*Pass]
	policy *PolicyFile
	events *Events // nil without Options.Events
}

// New wires a Server. Nothing runs until Serve but, with o.Events, the
// tracer (whose error New returns): the first pass is made by the first
// request that needs one.
func New(o Options) (*Server, error) {
	sc := &Scanner{
		Source:  o.Source,
		Kubelet: o.Kubelet,
		Names:   dockerNames,
		Pods:    containerdPods,
		Enrich:  o.Policy.Enrich,
	}
	cache := NewCache(sc.Scan, o.MinInterval)
	metrics := NewMetrics(cache.Get)
	sc.Metrics = metrics
	o.Policy.Attach(metrics)
	var events *Events
	if o.Events {
		var err error
		if events, err = StartEvents(metrics.Registry, o.Policy, o.EventHooks); err != nil {
			return nil, err
		}
		events.EngineTimeout = o.EngineTimeout
	}
	api := API{Cache: cache, EngineTimeout: o.EngineTimeout, Policy: o.Policy}
	return &Server{
		cache:  cache,
		policy: o.Policy,
		events: events,
		http: &http.Server{
			Handler: NewHandler(Config{
				Endpoints: append(api.Endpoints(), events.Endpoint()),
				Metrics: promhttp.HandlerFor(metrics.Registry, promhttp.HandlerOpts{
					ErrorHandling: promhttp.ContinueOnError, MaxRequestsInFlight: 8, Timeout: 30 * time.Second,
				}),
				Health: api.Health,
			}),
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      60 * time.Second,
			IdleTimeout:       90 * time.Second,
			MaxHeaderBytes:    16 << 10,
		},
	}, nil
}

// Serve answers on ln until Shutdown; it returns http.ErrServerClosed
// after a Shutdown, any other error when serving failed.
func (s *Server) Serve(ln net.Listener) error { return s.http.Serve(ln) }

// ReloadPolicy reads the policy file again and says what came of it.
func (s *Server) ReloadPolicy() string { return s.policy.Reload() }

// Shutdown lets answers in flight finish for up to 800 ms, then closes
// what is left, and waits up to 150 ms for a pass still running (its
// result has no reader left): the process can be gone within a second.
// Serve returns http.ErrServerClosed as soon as Shutdown begins.
func (s *Server) Shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 800*time.Millisecond)
	defer cancel()
	if s.http.Shutdown(ctx) != nil {
		s.http.Close()
	}
	s.events.Close()
	waited := make(chan struct{})
	go func() { s.cache.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(150 * time.Millisecond):
	}
}

// containerdPods asks containerd (the first of its usual sockets) for
// kubelet's containers, when a socket exists.
func containerdPods(ctx context.Context) (map[string]*engine.Container, error) {
	return engine.ContainerdPods(ctx, engine.CRINamespace)
}

// dockerNames asks the Docker engine for container names, when its socket
// exists: a node without one (a Kubernetes node running containerd) is not
// an error.
func dockerNames(ctx context.Context) (map[string]string, error) {
	sock, ok := engine.DockerSocket()
	if !ok {
		return nil, nil
	}
	if _, err := os.Stat(sock); err != nil {
		return nil, nil
	}
	return engine.DockerNames(ctx)
}
