package render

import (
	"fmt"
	"io"

	"github.com/nsinspect/nsinspect/inspect"
)

// Kthreads prints kthreads' table: one row per kernel thread.
func Kthreads(w io.Writer, k inspect.Kthreads) error {
	list := k.Kthreads
	tw := NewTable(w)
	fmt.Fprintln(tw, "PID\tPPID\tSTATE\tCPUS\tCOMM")
	for _, k := range list {
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\n", k.PID, k.PPid, k.State, k.CPUs, k.Comm)
	}
	return tw.Flush()
}
