package main

import (
	"errors"
	"fmt"

	"github.com/nsinspect/nsinspect/procinfo"
)

// readError turns an error from reading a pinned task into what the user
// sees: a task that exited is bad input (exit 2), a refusal names the
// capability (exit 4); anything else keeps its text (exit 5).
func readError(p *procinfo.Proc, what string, err error) error {
	switch {
	case errors.Is(err, procinfo.ErrProcessGone):
		return usageErrorf("process %d exited while its %s was read (see ps -e)", p.PID, what)
	case procinfo.IsDenied(err):
		return privilegeErrorf("%s", procinfo.DeniedHint(fmt.Sprintf("reading the %s of process %d", what, p.PID)))
	}
	return fmt.Errorf("reading the %s of process %d: %w", what, p.PID, err)
}
