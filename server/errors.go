package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/procinfo"
	"github.com/nsinspect/nsinspect/schema"
)

// ErrInternal marks a failure that is nsinspect's, not the request's: a
// 500 with a one-line message, never a stack.
var ErrInternal = errors.New("internal error")

// Error is an answer other than 200: an HTTP status and one line for the
// client, as {"error": {"status": 400, "code": "bad_pid", "message": "..."}}.
// Code is a stable word a script can test; Message is for people.
type Error struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Message }

// Errorf makes an Error with a status and a code.
func Errorf(status int, code, format string, a ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, a...)}
}

// BadRequest is a 400 with code.
func BadRequest(code, format string, a ...any) *Error {
	return Errorf(http.StatusBadRequest, code, format, a...)
}

// NotFound is a 404 with code.
func NotFound(code, format string, a ...any) *Error {
	return Errorf(http.StatusNotFound, code, format, a...)
}

// asError turns any error into the Error sent: an *Error as it is, a
// failure of the pass as 503 (the server works, the kernel's answer is
// not there), anything else as a 500 whose message is the error's one
// line.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var pe *PassError
	if errors.As(err, &pe) {
		return Errorf(http.StatusServiceUnavailable, "scan_failed", "%v", err)
	}
	return Errorf(http.StatusInternalServerError, "internal", "%v", err)
}

// PassError wraps a discovery pass that failed.
type PassError struct{ Err error }

func (e *PassError) Error() string { return "discovery pass failed: " + e.Err.Error() }
func (e *PassError) Unwrap() error { return e.Err }

// writeError sends e as JSON.
func writeError(w http.ResponseWriter, e *Error) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(e.Status)
	b, _ := json.Marshal(struct {
		SchemaVersion schema.Version `json:"schema_version"`
		Error         *Error         `json:"error"`
	}{Error: e})
	w.Write(append(b, '\n'))
}

// statusOf is the one table from an error's kind (inspect's sentinels,
// then its classes) to the HTTP status and code a client sees. The CLI
// has the other, to exit codes (cmd/nsinspect/exitcodes.go).
var statusOf = []struct {
	kind   error
	class  inspect.Class
	status int
	code   string // "bad_" + the parameter's word where empty for 400
}{
	{kind: inspect.ErrNoSuchTask, status: http.StatusNotFound, code: "no_such_task"},
	{kind: inspect.ErrNoSuchContainer, status: http.StatusNotFound, code: "no_such_container"},
	{kind: procinfo.ErrProcessGone, status: http.StatusNotFound, code: "task_gone"},
	{class: inspect.BadInput, status: http.StatusBadRequest},
	{class: inspect.Privilege, status: http.StatusForbidden, code: "missing_privilege"},
	{class: inspect.Assertion, status: http.StatusConflict, code: "assertion_failed"},
	{class: inspect.KernelRefused, status: http.StatusUnprocessableEntity, code: "kernel_refused"},
	{class: inspect.Undecided, status: http.StatusServiceUnavailable, code: "undecided"},
}

// FromError turns an answer's error into the HTTP error sent, by the
// table above: param names the query parameter a bad input came from.
// An *Error or a failed pass is sent as it is.
func FromError(err error, param string) error {
	var e *Error
	var pe *PassError
	if errors.As(err, &e) || errors.As(err, &pe) {
		return err
	}
	class := inspect.ClassOf(err)
	for _, s := range statusOf {
		if (s.kind != nil && errors.Is(err, s.kind)) || (s.kind == nil && s.class == class) {
			code := s.code
			msg := inspect.OneLine(err.Error())
			if code == "" {
				code, msg = "bad_"+paramWord(param), param+": "+msg
			}
			return Errorf(s.status, code, "%s", msg)
		}
	}
	return Errorf(http.StatusInternalServerError, "inspect_failed", "%s", inspect.OneLine(err.Error()))
}

// paramWord is the word in a 400's code: bad_pid, bad_target, bad_parameter.
func paramWord(param string) string {
	switch param {
	case "target":
		return "target"
	case "a", "b", "a or b", "task", "pid":
		return "pid"
	}
	return "parameter"
}
