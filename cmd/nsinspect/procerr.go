package main

import (
	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/procinfo"
)

// readError is inspect.ReadError: a task that exited mid-read is
// undecided (exit 5), a refusal names the capability (exit 4).
func readError(p *procinfo.Proc, what string, err error) error {
	return inspect.ReadError(p, what, err)
}
