package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/features"
	"github.com/nsinspect/nsinspect/internal/version"
	"github.com/nsinspect/nsinspect/schema"
)

func init() {
	register(&cobra.Command{
		Use:   "features",
		Short: "Say which kernel interfaces nsinspect found here and what each one changes",
	}, newFeaturesCmd)
}

type featuresJSON struct {
	SchemaVersion schema.Version    `json:"schema_version"`
	Nsinspect     version.Info      `json:"nsinspect"` // which nsinspect: version, where it came from, Go, platform
	Kernel        features.Uname    `json:"kernel"`
	GOARCH        string            `json:"goarch"`
	Cgo           bool              `json:"cgo"` // clone experiments need the C child
	Features      []features.Result `json:"features"`
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
			rep := featuresJSON{Nsinspect: version.Get(), Kernel: features.Kernel(), GOARCH: runtime.GOARCH, Cgo: cgoBuild, Features: features.All()}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), rep)
			}
			w := cmd.OutOrStdout()
			cgo := "with cgo (clone experiments available)"
			if !rep.Cgo {
				cgo = "without cgo (clone, unshare and matrix exit 4)"
			}
			fmt.Fprintf(w, "Linux %s on %s; nsinspect %s built for %s %s\n\n", rep.Kernel.Release, rep.Kernel.Machine, rep.Nsinspect.Version, rep.GOARCH, cgo)
			tw := newTable(w)
			fmt.Fprintln(tw, "FEATURE\tSINCE\tPRESENT\tWHAT NSINSPECT DOES\tEVIDENCE")
			for _, r := range rep.Features {
				present, does := "?", r.With+"; without it, "+r.Without
				switch {
				case r.Present != nil && *r.Present:
					present, does = "yes", r.With
				case r.Present != nil:
					present, does = "no", r.Without
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, r.Since, present, does, r.Evidence)
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, `print {"schema_version","nsinspect":{"version","source","revision","modified","go","platform"},"kernel","goarch","cgo","features":[{"name","since","with","without","present","evidence"}]}`)
	return c
}
