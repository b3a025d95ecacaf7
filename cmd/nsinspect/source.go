package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/discover"
	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/model"
)

const sourceHelp = `where tasks are read: auto (/proc on a host of fewer threads than the BPF source's fixed cost is worth, else the BPF iterators where allowed; see ls --help), bpf, listns (Linux 6.19+: proc, then what listns(2) lists that it missed), proc`

// addSourceFlag adds --source to a view's flags.
func addSourceFlag(c *cobra.Command, dst *string) {
	c.Flags().StringVar(dst, "source", "auto", sourceHelp)
}

// discoverFrom is inspect.Discover with its notes printed on stderr.
func discoverFrom(source string, opt discover.Options, stderr io.Writer) (*model.Model, error) {
	m, notes, err := inspect.Discover(source, opt)
	printNotes(stderr, notes)
	return m, err
}

// printNotes prints what the core says besides its answer, one line each.
func printNotes(stderr io.Writer, notes []string) {
	for _, n := range notes {
		fmt.Fprintf(stderr, "nsinspect: %s\n", n)
	}
}
