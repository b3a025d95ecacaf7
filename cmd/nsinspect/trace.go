package main

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/render"
)

func init() {
	register(&cobra.Command{
		Use:   "trace [--json] [-o FILE] [--until-cmd-exits] [--] CMD [ARGS...]",
		Short: "Run CMD and show every clone, unshare and setns of it and its descendants, with what parent and child share",
	}, newTraceCmd)
}

func newTraceCmd() *cobra.Command {
	var asJSON bool
	var output, hooks string
	var o inspect.TraceOptions
	c := &cobra.Command{
		Long: `trace attaches BPF programs, then starts CMD, and prints one line per event of
CMD and every process it makes, until CMD and all of them have exited
(--until-cmd-exits: until CMD exits):

  fork     a new task (fork, vfork, clone, clone3; a thread too), with the
           clone flags and the sharing table at the moment the child is made:
           each namespace (the ten /proc/PID/ns links) and each object (files,
           fs, mm, sighand, signal, io, sysvsem, nsproxy, cred) is the same as
           the parent's, different, or neither has one; a clone, clone3,
           fork or vfork that failed: the call, its flags and the errno with
           the rule it broke
  unshare  an unshare(2) that returned: what it replaced, before and after,
           or the errno and the rule it broke
  setns    a setns(2) that returned: the fd (a namespace file or a pidfd),
           the namespace entered, what it replaced, or the errno
  exec     an execve(2) or execveat(2) that succeeded: what it replaced
           (mm and cred always; files and sighand where shared)

--hooks fentry sees unshare, setns, exec and failed clones with fentry and
fexit programs on those calls alone, where the kernel has BPF trampolines
(nsinspect features): the other system calls of the machine are not slowed,
but a call that seccomp refused is not seen. The default, tracepoints, sees
every call through the raw syscall tracepoints.

--json prints one JSON object per line (schema/trace.json); the last line is
{"event": "end", ...} with the number of events lost (and "missed": times the
kernel skipped the programs because another BPF program was running). Objects are named by ids
of this run, never by kernel address. See docs/trace.md.

CMD's stdin, stdout and stderr are nsinspect's; -o FILE keeps the events apart.
The first SIGINT or SIGTERM is passed on to CMD; a second, or one after CMD
exited, ends the trace and leaves what still runs running.

trace exits with CMD's exit code, or 128+N when CMD was killed by signal N,
as a shell does. Before CMD runs, trace's own failures exit as below (2: CMD
cannot be started; 4: no BPF here, or a kernel older than 5.8).`,
		Example: `  nsinspect trace -- unshare -n -f true
  nsinspect trace --json -o /tmp/ev.jsonl -- ip netns exec red true`,
		Args: usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(c *cobra.Command, args []string) error {
			h, err := inspect.ParseHooks(hooks)
			if err != nil {
				return err
			}
			o.Hooks = h
			w, closeOut, err := openOutput(c, output)
			if err != nil {
				return err
			}
			defer closeOut()
			cmd := exec.Command(args[0], args[1:]...)
			cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
			sigs := make(chan os.Signal, 2)
			signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
			defer signal.Stop(sigs)
			emit := eventWriter(w, asJSON)
			o.Notice = func(n string) { render.TraceNotice(c.ErrOrStderr(), n) }
			end, err := inspect.Trace(cmd, o, sigs, emit)
			if err != nil {
				return err
			}
			if err := emit(inspect.EndEvent(end)); err != nil {
				return err
			}
			warnLost(c.ErrOrStderr(), end)
			if end.ExitCode != nil && *end.ExitCode != 0 {
				return &exitStatus{code: *end.ExitCode}
			}
			return nil
		},
	}
	c.Flags().SetInterspersed(false)
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per event, per line (schema/trace.json)")
	c.Flags().StringVarP(&output, "output", "o", "", "write the events to FILE instead of stdout")
	c.Flags().BoolVar(&o.UntilCmdExits, "until-cmd-exits", false, "end when CMD exits, even while processes it made still run")
	c.Flags().StringVar(&hooks, "hooks", "tracepoints", "the programs on the system calls: `tracepoints` (every call) or fentry (no cost to other system calls; no seccomp refusals)")
	return c
}

// openOutput is stdout, or FILE created afresh.
func openOutput(c *cobra.Command, path string) (io.Writer, func(), error) {
	if path == "" {
		return c.OutOrStdout(), func() {}, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, nil, usageErrorf("cannot write the events to %s: %v", path, errors.Unwrap(err))
	}
	return f, func() { f.Close() }, nil
}

func eventWriter(w io.Writer, asJSON bool) func(*inspect.TraceEvent) error {
	if asJSON {
		return func(e *inspect.TraceEvent) error { return render.TraceJSON(w, e) }
	}
	return func(e *inspect.TraceEvent) error { return render.Trace(w, e) }
}

func warnLost(w io.Writer, end *inspect.TraceEnd) {
	if end.Lost > 0 {
		render.LostWarning(w, end.Lost)
	}
	if end.Missed > 0 {
		render.MissedWarning(w, end.Missed)
	}

}
