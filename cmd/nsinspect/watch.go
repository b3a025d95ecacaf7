package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/policy"
	"github.com/nsinspect/nsinspect/render"
)

func init() {
	register(&cobra.Command{
		Use:   "watch",
		Short: "Show every clone, unshare and setns on the machine as it happens",
	}, newWatchCmd)
}

func newWatchCmd() *cobra.Command {
	var asJSON bool
	var output, comm, types, container, policyFile, hooks string
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
container that restarts has new ones, so watch again.

--policy FILE checks each event shown against the file's event rules
(forbid:, docs/policy.md): a line on stderr for each violation, and for each
rule that cannot be decided (the caller exited before its container was
known, the host's namespaces cannot be read); the end line counts them, and
watch exits 1 if any rule was violated, 5 if any could not be decided.`,
		Example: `  nsinspect watch --type net,mnt
  nsinspect watch --json --count 10 --duration 30s
  nsinspect watch --container docker:web
  nsinspect watch --policy events.yaml --duration 1h`,
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
			o := inspect.WatchOptions{Filter: f, Count: count, Duration: duration}
			if o.Hooks, err = inspect.ParseHooks(hooks); err != nil {
				return err
			}
			if policyFile != "" {
				pol, err := inspect.LoadPolicy(policyFile)
				if err != nil {
					return err
				}
				if o.Policy, err = inspect.NewEventChecker(pol); err != nil {
					return err
				}
				o.Violation = func(v policy.EventViolation) { render.PolicyViolation(c.ErrOrStderr(), v) }
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
			end, err := inspect.Watch(o, sigs, emit)
			if err != nil {
				return err
			}
			warnLost(c.ErrOrStderr(), end)
			if err := emit(inspect.EndEvent(end)); err != nil {
				return err
			}
			return inspect.PolicyOutcome(policyFile, end)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per event, per line (schema/trace.json)")
	c.Flags().StringVarP(&output, "output", "o", "", "write the events to FILE instead of stdout")
	c.Flags().IntVar(&pid, "pid", 0, "only events of process `P` (caller, child or setns target)")
	c.Flags().StringVar(&comm, "comm", "", "only events whose caller or child is named `C`")
	c.Flags().StringVar(&types, "type", "", "only events that change a namespace of these `types` (net,mnt,...)")
	c.Flags().StringVar(&container, "container", "", "only events of tasks in `TARGET`'s pid or mount namespace (docker:NAME, containerd:ID, ...)")
	c.Flags().DurationVar(&engineTimeout, "engine-timeout", 2*time.Second, "how long to wait for a container engine's answer")
	c.Flags().StringVar(&policyFile, "policy", "", "check events against the event rules of this YAML `FILE` (exit 1 on a violation)")
	c.Flags().StringVar(&hooks, "hooks", "tracepoints", "the programs on the system calls: `tracepoints` (every call) or fentry (no cost to other system calls; no seccomp refusals; see trace --help)")
	c.Flags().IntVar(&count, "count", 0, "stop after `N` events (0: no limit)")
	c.Flags().DurationVar(&duration, "duration", 0, "stop after `D` (30s, 2m; 0: no limit)")
	return c
}
