package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/inspect"
)

func init() {
	register(&cobra.Command{
		Use:   "watch",
		Short: "Show every clone, unshare and setns on the machine as it happens",
	}, newWatchCmd)
}

func newWatchCmd() *cobra.Command {
	var asJSON bool
	var output, comm, types, container string
	var engineTimeout time.Duration
	var pid, count int
	var duration time.Duration
	c := &cobra.Command{
		Long: `watch prints the events of trace (see trace --help and docs/trace.md) for every
task that nsinspect's pid namespace can see, kernel threads and io_uring and
vhost workers included, nsinspect itself excepted, until --count events were
printed, --duration passed, or SIGINT or SIGTERM arrives. The last line
says why it ended and how many events were lost.

--pid P keeps the events whose caller or child belongs to process P, or whose
setns pidfd names it; --comm C those whose caller or child is named C;
--type net,uts,... those that change a namespace of these types (a fork
into another one, an unshare that replaced one, a setns into one);
--container TARGET those whose caller or child, before or after the call,
is in the target's pid or mount namespace (where it is apart from
nsinspect's): a container target (` + inspect.TargetForms() + `)
or any task. docker exec shows as the runtime's setns into the container,
then what runs there. The namespaces are looked up once, at the start: a
container that restarts has new ones, so watch again.`,
		Example: `  nsinspect watch --type net,mnt
  nsinspect watch --json --count 10 --duration 30s
  nsinspect watch --container docker:web`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, args []string) error {
			if pid < 0 || count < 0 || duration < 0 {
				return usageErrorf("--pid, --count and --duration must not be negative")
			}
			f, err := inspect.NewWatchFilter(pid, comm, types)
			if err != nil {
				return usageErrorf("--%v", err)
			}
			if container != "" {
				sc, err := inspect.NewScope(context.Background(), container, engineTimeout)
				if err != nil {
					return err
				}
				defer sc.Close()
				f.In = sc.NS
			}
			w, closeOut, err := openOutput(c, output)
			if err != nil {
				return err
			}
			defer closeOut()
			sigs := make(chan os.Signal, 1)
			signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
			defer signal.Stop(sigs)
			emit := eventWriter(w, asJSON)
			end, err := inspect.Watch(f, count, duration, sigs, emit)
			if err != nil {
				return err
			}
			warnLost(c.ErrOrStderr(), end)
			return emit(inspect.EndEvent(end))
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per event, per line (schema/trace.json)")
	c.Flags().StringVarP(&output, "output", "o", "", "write the events to FILE instead of stdout")
	c.Flags().IntVar(&pid, "pid", 0, "only events of process `P` (caller, child or setns target)")
	c.Flags().StringVar(&comm, "comm", "", "only events whose caller or child is named `C`")
	c.Flags().StringVar(&types, "type", "", "only events that change a namespace of these `types` (net,mnt,...)")
	c.Flags().StringVar(&container, "container", "", "only events of tasks in `TARGET`'s pid or mount namespace (docker:NAME, containerd:ID, ...)")
	c.Flags().DurationVar(&engineTimeout, "engine-timeout", 2*time.Second, "how long to wait for a container engine's answer")
	c.Flags().IntVar(&count, "count", 0, "stop after `N` events (0: no limit)")
	c.Flags().DurationVar(&duration, "duration", 0, "stop after `D` (30s, 2m; 0: no limit)")
	return c
}
