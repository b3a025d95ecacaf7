package main

import (
	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/render"
)

func init() {
	register(&cobra.Command{
		Use:   "features",
		Short: "Say which kernel interfaces nsinspect found here and what each one changes",
	}, newFeaturesCmd)
}

func newFeaturesCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Long: `features prints the kernel release and architecture, then, for every kernel
interface newer than Linux 6.1 (the oldest nsinspect supports) or one a
kernel may be built without, whether this kernel has it, the call that
decided it and what nsinspect does with it and without it. Paste it into a
bug report or a CI log.

Each interface is probed by a call that cannot change anything, and only
once per run; PRESENT is "yes", "no", or "?" when the call's answer did not
decide (the evidence says what it was).`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			rep := inspect.FeaturesOf(cgoBuild)
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), rep)
			}
			return render.Features(cmd.OutOrStdout(), rep)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, `print {"schema_version","nsinspect":{"version","source","revision","modified","go","platform"},"kernel","goarch","cgo","features":[{"name","since","with","without","present","evidence"}]}`)
	return c
}
