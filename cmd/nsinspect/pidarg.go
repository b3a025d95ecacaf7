package main

import (
	"context"
	"errors"
	"fmt"
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

// nsReadError is the error for a -p task whose namespace links could not
// be read: the kernel refused (exit 4, saying what it takes), the task
// exited meanwhile or anything else (exit 5, nsinspect could not find out).
func nsReadError(arg string, p *procinfo.Proc, err error) error {
	dir := fmt.Sprintf("/proc/%d/ns", p.PID)
	if p.IsThread() {
		dir = fmt.Sprintf("/proc/%d/task/%d/ns", p.PID, p.TID)
	}
	switch {
	case procinfo.IsDenied(err):
		return privilegeErrorf("-p %s: cannot read its namespaces: %s", arg, procinfo.DeniedHint("reading "+dir))
	case errors.Is(err, procinfo.ErrProcessGone):
		return fmt.Errorf("-p %s: the task exited while %s was read: %w", arg, dir, err)
	}
	return fmt.Errorf("-p %s: reading %s: %w", arg, dir, err)
}

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
