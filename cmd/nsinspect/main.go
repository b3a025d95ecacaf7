package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/nsinspect/nsinspect/clone"
	"github.com/nsinspect/nsinspect/inspect"
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
	// Every command writes its report through out, so that a failed
	// write (a full disk, /dev/full) fails the command whichever renderer
	// met it. A closed pipe never gets here: Go's runtime ends the
	// process with SIGPIPE on a write to fd 1, quietly, as util-linux's
	// tools end.
	out := &stickyWriter{w: os.Stdout}
	root.SetOut(out)
	err := root.Execute()
	if out.err != nil && (err == nil || !errors.Is(err, out.err)) {
		err = errors.Join(err, out.err)
	}
	if err == nil {
		return exitOK
	}
	if st, ok := err.(*exitStatus); ok {
		return st.code
	}
	printError(os.Stderr, err)
	return exitCode(err)
}

// printError prints err as "nsinspect: " lines: one line, or, for
// errors joined (every error of a policy file; a violation and a refused
// read), one line each. An error with no text (an assertion whose report
// said it all) prints nothing.
func printError(w io.Writer, err error) {
	// A core error unwraps to its kind and cause, but says itself.
	if _, core := err.(*inspect.Error); !core {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				printError(w, e)
			}
			return
		}
	}
	if l := inspect.OneLine(err.Error()); l != "" {
		fmt.Fprintf(w, "nsinspect: %s\n", l)
	}
}

// stickyWriter passes writes on until the first one fails, then fails
// every write with that error, which it keeps.
type stickyWriter struct {
	w   io.Writer
	err error
}

func (s *stickyWriter) Write(b []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.w.Write(b)
	if err != nil {
		s.err = err
	}
	return n, err
}
