package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
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
		Error *Error `json:"error"`
	}{e})
	w.Write(append(b, '\n'))
}
