package main

import (
	"strings"

	"github.com/spf13/cobra"
)

// commands holds a constructor for each subcommand; each command's file
// registers itself in an init function so that files do not touch each
// other.
var commands []func() *cobra.Command

func register(c func() *cobra.Command) { commands = append(commands, c) }

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "nsinspect",
		Short: "Show what Linux processes share: namespaces, fd tables, clone(2) flags",
		Long: `nsinspect makes real clone(2), clone3(2), unshare(2) and setns(2) calls and
reads /proc, kcmp(2) and the nsfs ioctls back to show what processes share,
with the kernel's evidence beside every verdict.

Wherever a PID is taken, "self" means nsinspect's own process and PID:TID
names one thread.

` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErrorf("%v (see '%s --help')", err, c.CommandPath())
	})
	for _, c := range commands {
		root.AddCommand(c())
	}
	strictCompletion(root)
	return root
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
