package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/nsinspect/nsinspect/procinfo"
)

// task is a PID argument as the user wrote it: "self", "PID" or "PID:TID".
type task struct {
	arg      string
	pid, tid int
}

// parseTask validates a PID argument without touching /proc.
func parseTask(arg string) (task, error) {
	t := task{arg: arg}
	pidStr, tidStr, hasTID := strings.Cut(arg, ":")
	if pidStr == "self" {
		t.pid = os.Getpid()
	} else {
		n, err := parsePositive(pidStr)
		if err != nil {
			return t, usageErrorf("bad PID %q: %v (want a positive number, \"self\" or PID:TID)", arg, err)
		}
		t.pid = n
	}
	t.tid = t.pid
	if hasTID {
		n, err := parsePositive(tidStr)
		if err != nil {
			return t, usageErrorf("bad thread id in %q: %v (want PID:TID, both positive numbers)", arg, err)
		}
		t.tid = n
	}
	return t, nil
}

func parsePositive(s string) (int, error) {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return 0, errors.New("out of range")
		}
		return 0, errors.New("not a number")
	}
	if n <= 0 {
		return 0, errors.New("must be greater than 0")
	}
	return int(n), nil
}

// openTask parses and pins a PID argument. A task that does not exist is a
// usage error (exit 2) naming the argument.
func openTask(arg string) (*procinfo.Proc, error) {
	t, err := parseTask(arg)
	if err != nil {
		return nil, err
	}
	p, err := procinfo.OpenTask(t.pid, t.tid)
	if err != nil {
		if errors.Is(err, procinfo.ErrProcessGone) {
			if t.tid != t.pid {
				return nil, usageErrorf("no thread %d in process %d (%q): see /proc/%d/task", t.tid, t.pid, arg, t.pid)
			}
			return nil, usageErrorf("no process with PID %d: it does not exist or has exited (see ps -e)", t.pid)
		}
		return nil, err
	}
	return p, nil
}

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
// it read as JSON, or with render.
func viewTask[T any](w io.Writer, arg string, asJSON bool, read func(*procinfo.Proc) (T, error), render func(io.Writer, T) error) error {
	p, err := openTask(arg)
	if err != nil {
		return err
	}
	defer p.Close()
	out, err := read(p)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(w, out)
	}
	return render(w, out)
}
