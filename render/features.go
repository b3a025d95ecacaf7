package render

import (
	"fmt"
	"io"

	"github.com/nsinspect/nsinspect/inspect"
)

// Features prints features' table: the kernel, the build, then one row
// per kernel interface with what nsinspect does with it and without it.
func Features(w io.Writer, rep inspect.Features) error {
	cgo := "with cgo (clone experiments available)"
	if !rep.Cgo {
		cgo = "without cgo (clone, unshare and matrix exit 4)"
	}
	fmt.Fprintf(w, "Linux %s on %s; nsinspect %s built for %s %s\n\n", rep.Kernel.Release, rep.Kernel.Machine, rep.Nsinspect.Version, rep.GOARCH, cgo)
	tw := NewTable(w)
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
}
