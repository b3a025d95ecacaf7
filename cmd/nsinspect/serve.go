package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/server"
)

func init() {
	register(&cobra.Command{
		Use:   "serve",
		Short: "Serve namespaces, containers and their isolation over HTTP: Prometheus metrics and the JSON of ls, compare and audit",
	}, newServeCmd)
}

type serveOptions struct {
	listen        string
	minInterval   time.Duration
	source        string
	policy        string
	podsDir       string
	containersDir string
	engineTimeout time.Duration
	events        bool
	eventHooks    string
}

func newServeCmd() *cobra.Command {
	var o serveOptions
	c := &cobra.Command{
		Long: `serve is a long-running, read-only HTTP server (docs/serve.md):

  /metrics                   Prometheus text format: namespaces by type and
                             holder, unreadable tasks, scan durations, errors,
                             and per container the namespaces it shares with
                             the host, its isolation facts and policy results
  /api/namespaces            what ls --json prints; ?type=net&task=PID filter
                             as ls -t and -p do
  /api/tasks                 every task with its namespaces (?pid=PID: one
                             process's threads)
  /api/containers            the containers found, with what they share
  /api/compare?a=A&b=B       what compare --json A B prints (&kernel=true: --kernel)
  /api/audit?target=T        what audit --json T prints
  /api/events                with --events: every clone, unshare and setns
                             as it happens, as Server-Sent Events (each the
                             JSON of watch --json; ?type=net&pid=P&comm=C
                             filter as watch does)
  /healthz                   200 once a pass succeeded and the last one did

Every answer about the host comes from one discovery pass (BPF iterators,
kept loaded, where the kernel allows it, else /proc), shared by concurrent
requests and kept for --min-interval. compare and audit read their tasks
when asked, as the commands do. Only GET and HEAD are served; a bad request
is a 4xx with a JSON body {"schema_version", "error": {"status", "code",
"message"}}. schema/openapi.yaml in the source documents every path.

It listens on 127.0.0.1:9817 unless --listen says otherwise: the answers
name every process and container of the host, so bind a wider address only
where the network in front of it is trusted (see docs/serve.md). SIGTERM or
SIGINT stops it within a second; SIGHUP reloads --policy.

` + exitCodesHelp,
		Example: `  nsinspect serve
  nsinspect serve --listen :9817 --policy /etc/nsinspect/policy.yaml
  curl -s localhost:9817/api/compare?a=1\&b=4242 | jq '.resources[] | select(.name=="net")'`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error { return runServe(c.ErrOrStderr(), o) },
	}
	f := c.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:9817", "address to listen on (HOST:PORT; :PORT is every address)")
	f.DurationVar(&o.minInterval, "min-interval", 5*time.Second, "how long a discovery pass is reused before the next request starts another")
	f.StringVar(&o.policy, "policy", "", "policy file whose rules are evaluated on every container (nsinspect_policy_violations); reloaded on SIGHUP")
	f.StringVar(&o.podsDir, "pods-log-dir", server.DefaultKubelet.PodsDir, "kubelet's pod log directory, for pod namespaces and names (\"\" reads none)")
	f.StringVar(&o.containersDir, "containers-log-dir", server.DefaultKubelet.ContainersDir, "kubelet's container log directory, for container names (\"\" reads none)")
	f.DurationVar(&o.engineTimeout, "engine-timeout", time.Second, "how long audit waits for a container engine's API")
	f.StringVar(&o.eventHooks, "event-hooks", "tracepoints", "with --events, the tracer's programs on the system calls: `tracepoints` or fentry (see trace --help)")
	f.BoolVar(&o.events, "events", false, "trace every clone, unshare and setns (BPF, as watch does): /api/events and the nsinspect_namespace_events_total, nsinspect_events_lost_total and nsinspect_container_host_namespace_entries_total counters, and with --policy its event rules' nsinspect_policy_event_violations_total and nsinspect_policy_event_undecided_total")
	addSourceFlag(c, &o.source)
	return c
}

func runServe(stderr io.Writer, o serveOptions) error {
	if o.minInterval < 0 {
		return usageErrorf("--min-interval %v: must not be negative", o.minInterval)
	}
	hooks, err := inspect.ParseHooks(o.eventHooks)
	if err != nil {
		return err
	}
	src, closeSrc, notes, err := inspect.OpenSource(o.source)
	printNotes(stderr, notes)
	if err != nil {
		return err
	}
	defer closeSrc()
	pol, err := server.NewPolicyFile(o.policy)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return usageErrorf("--listen %s: %v", o.listen, inspect.OneLine(err.Error()))
	}
	srv, err := server.New(server.Options{
		Source:        src,
		MinInterval:   o.minInterval,
		Policy:        pol,
		Kubelet:       server.Kubelet{PodsDir: o.podsDir, ContainersDir: o.containersDir},
		EngineTimeout: o.engineTimeout,
		Events:        o.events,
		EventHooks:    hooks,
	})
	if err != nil {
		ln.Close()
		return err
	}
	fmt.Fprintf(stderr, "nsinspect: serving on http://%s (source %s, passes kept %v)\n", ln.Addr(), src.Name(), o.minInterval)
	return serveUntilSignal(srv, ln, stderr)
}

// serveUntilSignal serves until SIGTERM or SIGINT, reloading the policy
// on SIGHUP; the server's Shutdown makes the process gone within a
// second.
func serveUntilSignal(srv *server.Server, ln net.Listener, stderr io.Writer) error {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGINT, unix.SIGHUP)
	defer signal.Stop(sigs)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	for {
		select {
		case err := <-done:
			return fmt.Errorf("serving HTTP: %w", err)
		case s := <-sigs:
			if s == unix.SIGHUP {
				fmt.Fprintf(stderr, "nsinspect: %s\n", srv.ReloadPolicy())
				continue
			}
			srv.Shutdown()
			<-done
			return nil
		}
	}
}
