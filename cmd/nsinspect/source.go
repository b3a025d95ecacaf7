package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/bpfiter"
	"github.com/nsinspect/nsinspect/discover"
	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/model"
)

const sourceHelp = `where tasks are read: auto (/proc on a host of fewer threads than the BPF source's fixed cost is worth, else the BPF iterators where allowed; see ls --help), bpf, proc`

// addSourceFlag adds --source to a view's flags.
func addSourceFlag(c *cobra.Command, dst *string) {
	c.Flags().StringVar(dst, "source", "auto", sourceHelp)
}

// discoverFrom runs one discovery pass with the source named by --source.
// auto falls back to /proc with one note on stderr; bpf where BPF cannot
// run is exit 4 with the reason.
func discoverFrom(source string, opt discover.Options, stderr io.Writer) (*model.Model, error) {
	var s discover.Source
	switch source {
	case "auto", "":
		s = discover.Auto{}
	case "bpf":
		s = discover.BPF{}
	case "proc":
		s = discover.Proc{}
	default:
		return nil, usageErrorf("--source %q: not one of auto, bpf, proc", source)
	}
	m, err := discover.Run(opt, s)
	if err != nil {
		if errors.Is(err, bpfiter.ErrUnavailable) {
			return nil, privilegeErrorf("--source bpf: %v (--source proc reads /proc instead)", err)
		}
		return nil, fmt.Errorf("scanning namespaces: %w", err)
	}
	if m.Note != "" {
		fmt.Fprintf(stderr, "nsinspect: note: %s\n", m.Note)
	}
	// Every view of the pass (ls, nsproxy, graph, kthreads) says what it
	// could not read: a view that silently drops tasks is wrong.
	if m.Denied.Any() {
		fmt.Fprintf(stderr, "nsinspect: warning: %s\n", inspect.DeniedLine(m.Denied))
	}
	return m, nil
}
