package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/nsinspect/nsinspect/clone"
)

func main() {
	if clone.IsLab() {
		// Re-executed as a clone experiment's lab (see clone/doc.go).
		os.Exit(clone.LabMain())
	}
	code := run(os.Args[1:])
	// The report is printed; now every process nsinspect made must be
	// reaped, so that none is left to init.
	clone.Reap()
	os.Exit(code)
}

// run executes one command line and returns the exit code. Errors are
// printed as one line on stderr: "nsinspect: what failed: why (what to do)".
func run(args []string) int {
	root := newRootCmd(args)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	if strings.HasPrefix(err.Error(), "unknown command") {
		err = usageErrorf("%v (see 'nsinspect --help')", err)
	}
	if msg := strings.TrimSpace(err.Error()); msg != "" {
		fmt.Fprintf(os.Stderr, "nsinspect: %s\n", oneLine(msg))
	}
	return exitCode(err)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
