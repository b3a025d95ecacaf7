package main

import "github.com/spf13/cobra"

// strictCompletion makes cobra's built-in `completion` command follow our
// exit codes. Left alone, `nsinspect completion` and `nsinspect completion
// tcsh` print help and exit 0, which a packaging script would take for
// success; here both are usage errors (exit 2).
func strictCompletion(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		c.Args = usageArgs(cobra.NoArgs)
		c.RunE = func(c *cobra.Command, args []string) error {
			return usageErrorf("%s: name a shell: bash, zsh, fish or powershell (see '%s --help')", c.CommandPath(), c.CommandPath())
		}
	}
}
