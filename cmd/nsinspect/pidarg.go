package main

import (
	"context"
	"errors"
	"io"

	"github.com/nsinspect/nsinspect/engine"
	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/procinfo"
)

// parseTask checks a target's form (inspect.ParseTarget) without touching
// /proc or an engine.
func parseTask(arg string) (inspect.Target, error) { return inspect.ParseTarget(arg) }

// openTask resolves and pins a target: a PID, self, PID:TID or a
// container (inspect.Resolve), with the engine's default timeout.
func openTask(arg string) (*procinfo.Proc, error) {
	r, err := inspect.Resolve(context.Background(), arg, engine.Timeout)
	if err != nil {
		return nil, err
	}
	return r.Proc, nil
}

// partialRead is inspect.PartialRead: a report with parts the kernel
// refused, printed, then its error decides the exit code.
type partialRead = inspect.PartialRead

// viewTask pins the task named by arg, reads it with read and prints what
// it read as JSON, or with render. A partialRead is printed, then
// returned.
func viewTask[T any](w io.Writer, arg string, asJSON bool, read func(*procinfo.Proc) (T, error), render func(io.Writer, T) error) error {
	p, err := openTask(arg)
	if err != nil {
		return err
	}
	defer p.Close()
	out, err := read(p)
	var partial partialRead
	if err != nil && !errors.As(err, &partial) {
		return err
	}
	if asJSON {
		if werr := writeJSON(w, out); werr != nil {
			return werr
		}
	} else if rerr := render(w, out); rerr != nil {
		return rerr
	}
	return err
}
