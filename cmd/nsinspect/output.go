package main

import (
	"io"

	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/procinfo"
	"github.com/nsinspect/nsinspect/render"
)

// writeJSON is render.JSON.
func writeJSON(w io.Writer, v any) error { return render.JSON(w, v) }

// write prints out as JSON, or with its renderer.
func write[T any](w io.Writer, asJSON bool, out T, text func(io.Writer, T) error) error {
	if asJSON {
		return render.JSON(w, out)
	}
	return text(w, out)
}

// viewTask is a one-task view (show, fds): the core reads the task
// named by arg, its answer is printed, and its error is the exit code.
func viewTask[T any](w io.Writer, arg string, asJSON bool, read func(*procinfo.Proc) (T, error), text func(io.Writer, T) error) error {
	out, err := inspect.ReadTask(arg, read)
	if !inspect.Printable(err) {
		return err
	}
	if werr := write(w, asJSON, out, text); werr != nil {
		return werr
	}
	return err
}
