package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/engine"
	"github.com/nsinspect/nsinspect/internal/version"
)

// commands holds every subcommand; each command's file registers itself
// in an init function so that files do not touch each other.
var commands []entry

// entry is a subcommand in two parts. head is what the root holds until a
// command line reaches the command: Use, Short and Hidden, all that the
// root's help lists and its "Did you mean" suggestions search. build makes
// the rest (long help, flags, argument checks, the run function); it
// leaves Use, Short and Hidden out, so that they are written once.
type entry struct {
	head  *cobra.Command
	build func() *cobra.Command
}

func register(head *cobra.Command, build func() *cobra.Command) {
	// cobra lists only the commands it can run. A head never runs:
	// buildReached replaces every head that a command line reaches.
	head.RunE = func(c *cobra.Command, _ []string) error {
		return fmt.Errorf("%s ran unbuilt (a bug in nsinspect)", c.CommandPath())
	}
	commands = append(commands, entry{head, build})
}

func newRootCmd(args []string) *cobra.Command {
	root := &cobra.Command{
		Use:   "nsinspect",
		Short: "Show what Linux processes share: namespaces, fd tables, clone(2) flags",
		Long: `nsinspect makes real clone(2), clone3(2), unshare(2) and setns(2) calls and
reads /proc, kcmp(2) and the nsfs ioctls back to show what processes share,
with the kernel's evidence beside every verdict.

Wherever a task is taken, it is named the same way: a PID, "self"
(nsinspect's own process), PID:TID (one thread), or a container's init:
docker:NAME, podman:NAME (podman:USER/NAME for USER's rootless podman),
runc:ID (runc:USER/ID), containerd:[NAMESPACE/]ID (namespace k8s.io first;
ID may be a CRI container name).

` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
		// An unknown command is bad input decided here, by its name, not
		// by matching the text of cobra's error.
		SuggestionsMinimumDistance: 2,
		Args:                       cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if v, _ := c.Flags().GetBool("version"); v && len(args) == 0 {
				_, err := fmt.Fprintf(c.OutOrStdout(), "nsinspect %s\n", version.Get())
				return err
			}
			if len(args) == 0 {
				return c.Help()
			}
			msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
			if s := c.SuggestionsFor(args[0]); len(s) > 0 {
				msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, ", "))
			}
			return usageErrorf("%s (see 'nsinspect --help')", msg)
		},
	}
	// --version is the root's own flag, not cobra's Version field: that
	// prints through text/template, whose reflection keeps every method
	// of every type in the binary (2.6 MB, over the image budget).
	root.Flags().Bool("version", false, "print nsinspect's version (git describe, or what Go recorded) and exit")
	root.PersistentFlags().StringVar(&engine.ContainerdSocket, "containerd-socket", "",
		"containerd's socket (default: the first of "+strings.Join(engine.ContainerdSockets, ", ")+" that exists)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErrorf("%v (see '%s --help')", err, c.CommandPath())
	})
	for _, e := range commands {
		root.AddCommand(e.head)
	}
	strictCompletion(root)
	buildReached(root, args)
	return root
}

// buildReached builds the commands that args reach, found as Execute will
// find them. Building them all was half of what --help did after package
// init (0.4 of 0.8 ms, 18 of 36 page faults), for long help and flags that
// only the command that runs reads. The root (its help, its own flags)
// reads heads only, and a subcommand itself only; anything else (help
// CMD, completion, __complete, an unknown command and its suggestions)
// may read any command, and gets them all.
func buildReached(root *cobra.Command, args []string) {
	target, _, err := root.Find(args)
	if err == nil && target == root {
		return
	}
	for _, e := range commands {
		if e.head == target {
			e.buildIn(root)
			return
		}
	}
	buildAll(root)
}

// buildAll builds every command still a head under root.
func buildAll(root *cobra.Command) {
	for _, e := range commands {
		e.buildIn(root)
	}
}

// buildIn puts e's command into root in place of its head, once.
func (e entry) buildIn(root *cobra.Command) {
	if e.head.Parent() != root {
		return
	}
	c := e.build()
	c.Use, c.Short, c.Hidden = e.head.Use, e.head.Short, e.head.Hidden
	// Every command's help ends with the one exit-code table.
	if !strings.Contains(c.Long, exitCodesHelp) {
		c.Long = strings.TrimRight(c.Long, "\n") + "\n\n" + exitCodesHelp
	}
	root.RemoveCommand(e.head)
	root.AddCommand(c)
}

// usageArgs wraps a cobra positional-argument validator so that a wrong
// count is a usage error (exit 2) that says how to get help.
func usageArgs(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if err := v(c, args); err != nil {
			return usageErrorf("%s: %s (see '%s --help')", c.CommandPath(), strings.TrimSuffix(err.Error(), "."), c.CommandPath())
		}
		return nil
	}
}
