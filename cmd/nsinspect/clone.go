package main

import (
	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/clone"
	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/nsgraph"
	"github.com/nsinspect/nsinspect/render"
)

func init() {
	register(&cobra.Command{
		Use:   "clone FLAGS",
		Short: "Make a real clone(2)/clone3(2) call and show what parent and child share",
	}, newCloneCmd)
}

type cloneOpts struct {
	cgroup                                                         string
	json, host, userns, noProbes, identity, exec, clone3, dot, svg bool
}

func newCloneCmd() *cobra.Command {
	var o cloneOpts
	c := &cobra.Command{
		Long: `Make a real clone(2) call (clone3(2) where a flag needs it) with FLAGS, keep
parent and child alive without exec, and show for every resource what
clone(2) says, what the kernel's identities say (namespace ids, kcmp(2)) and
what a witness probe saw: one side changes the resource, the other side's
view is read again. Disagreements are marked.

FLAGS: 'CLONE_NEWNET|CLONE_FILES', newnet,files, net,files, or a number such
as 0x40000400. See 'nsinspect explain' for every flag. The exit signal
SIGCHLD, which strace prints last, is accepted (every experiment passes
it); another exit signal, and the flags experiments leave out (CLONE_SETTLS,
CLONE_PARENT_SETTID, CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID, CLONE_PTRACE,
CLONE_UNTRACED, CLONE_DETACHED: they serve thread libraries and tracers and
change nothing parent and child share), exit 2 saying why.

By default the experiment runs in a disposable lab: a process in new mount,
UTS, IPC, network, pid, cgroup and time namespaces is the experiment's
grandparent, so probes never change the host and everything dies with the
lab. A root lab keeps nsinspect's user namespace; without root (or with
--userns) the lab is made inside a new user namespace. The report's first
line names the namespaces the lab made. --host runs from nsinspect's own
namespaces with only the probes that cannot change the host.

--cgroup DIR makes the child with clone3(CLONE_INTO_CGROUP) in the cgroup v2
directory DIR (Linux 5.7); it implies CLONE_INTO_CGROUP. Without --cgroup,
CLONE_INTO_CGROUP puts the child in nsinspect's own cgroup. For
CLONE_INTO_CGROUP the lab keeps nsinspect's cgroup namespace, so DIR may be
any cgroup nsinspect can open. The report shows the cgroup parent and child
are in. A DIR that is not a cgroup v2 directory exits 2.

A call the kernel refuses exits 3, with the errno and the clone(2) rule it
broke.`,
		Example: `  nsinspect clone 'CLONE_NEWNET|CLONE_FILES'
  nsinspect clone vm,sighand,thread --json
  nsinspect clone newtime            # made with clone3
  nsinspect clone fs --exec          # which sharing survives execve
  nsinspect clone sighand            # refused: CLONE_SIGHAND requires CLONE_VM`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, args []string) error {
			if n := countTrue(o.json, o.dot, o.svg); n > 1 {
				return usageErrorf("--json, --dot and --svg cannot be combined (pick one output format)")
			}
			rep, err := inspect.Clone(args[0], clone.Request{Cgroup: o.cgroup, Clone3: o.clone3, Probes: !o.noProbes,
				Identity: o.identity, Exec: o.exec, Host: o.host, UserNS: o.userns})
			if err != nil {
				return err
			}
			if o.dot || o.svg {
				if err := render.Graph(c.OutOrStdout(), nsgraph.Clone(rep), o.svg); err != nil {
					return err
				}
			} else if o.json {
				if err := writeJSON(c.OutOrStdout(), rep); err != nil {
					return err
				}
			} else if err := render.Clone(c.OutOrStdout(), rep); err != nil {
				return err
			}
			return inspect.CloneOutcome(rep)
		},
	}
	f := c.Flags()
	f.BoolVar(&o.json, "json", false, "print the report as JSON")
	f.BoolVar(&o.host, "host", false, "run from nsinspect's own namespaces (only host-safe probes)")
	f.BoolVar(&o.userns, "userns", false, "make the lab inside a new user namespace even as root")
	f.BoolVar(&o.noProbes, "no-probes", false, "no witness probes (identities, kcmp and the full snapshot only)")
	f.BoolVar(&o.identity, "identity", false, "namespace ids and kcmp (with KCMP_FILE per shared fd number) only: no snapshot beyond status and ns links, no probes (fastest)")
	f.BoolVar(&o.exec, "exec", false, "also show the kcmp verdicts after the child execs")
	f.BoolVar(&o.clone3, "clone3", false, "use clone3(2) even when clone(2) can pass the flags")
	f.StringVar(&o.cgroup, "cgroup", "", "make the child in cgroup v2 directory `DIR` (clone3 with CLONE_INTO_CGROUP, Linux 5.7)")
	f.BoolVar(&o.dot, "dot", false, "print the experiment as a Graphviz DOT graph: parent, child, each resource shared or separate")
	f.BoolVar(&o.svg, "svg", false, "like --dot, rendered to SVG by Graphviz's dot (apt-get install graphviz)")
	return c
}

func countTrue(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}
