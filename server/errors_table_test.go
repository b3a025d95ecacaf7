package server

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/procinfo"
)

// TestFromError is the table from the core's typed errors to the HTTP
// status and code a client sees.
func TestFromError(t *testing.T) {
	gone := &procinfo.Error{PID: 9, Op: "read", Path: "status", Err: unix.ESRCH}
	cases := []struct {
		err    error
		param  string
		status int
		code   string
	}{
		{inspect.Wrap(inspect.ErrNoSuchTask, nil, "no process with PID 9"), "a", http.StatusNotFound, "no_such_task"},
		{fmt.Errorf("audit %w", inspect.Wrap(inspect.ErrNoSuchContainer, nil, "docker:x: no such container")), "target", http.StatusNotFound, "no_such_container"},
		{inspect.Undecidedf(gone, "process 9 exited while its status was read"), "pid", http.StatusNotFound, "task_gone"},
		{inspect.BadInputf("bad PID %q", "x"), "pid", http.StatusBadRequest, "bad_pid"},
		{inspect.BadInputf("x: unknown engine"), "target", http.StatusBadRequest, "bad_target"},
		{inspect.BadInputf("?"), "type", http.StatusBadRequest, "bad_parameter"},
		{inspect.Privilegef("needs CAP_SYS_PTRACE"), "a", http.StatusForbidden, "missing_privilege"},
		{inspect.Wrap(inspect.ErrUnsupported, nil, "needs BTF"), "a", http.StatusForbidden, "missing_privilege"},
		{fmt.Errorf("reading: %w", unix.EACCES), "a", http.StatusForbidden, "missing_privilege"},
		{inspect.Undecidedf(nil, "the engine did not answer in time"), "target", http.StatusServiceUnavailable, "undecided"},
		{errors.New("an I/O error"), "a", http.StatusServiceUnavailable, "undecided"},
		{inspect.Assertionf("x"), "a", http.StatusConflict, "assertion_failed"},
		{inspect.Wrap(inspect.ErrKernelRefused, nil, "EINVAL"), "a", http.StatusUnprocessableEntity, "kernel_refused"},
	}
	for _, c := range cases {
		var e *Error
		if !errors.As(FromError(c.err, c.param), &e) {
			t.Errorf("FromError(%v) is not an *Error", c.err)
			continue
		}
		if e.Status != c.status || e.Code != c.code {
			t.Errorf("FromError(%v, %q) = %d %s; want %d %s", c.err, c.param, e.Status, e.Code, c.status, c.code)
		}
	}
	// Every class has a row: a new class without one fails here.
	for cl := inspect.Assertion; cl <= inspect.Undecided; cl++ {
		found := false
		for _, s := range statusOf {
			found = found || (s.kind == nil && s.class == cl)
		}
		if !found {
			t.Errorf("class %v has no HTTP status", cl)
		}
	}
}
