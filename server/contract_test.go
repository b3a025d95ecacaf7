package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/nsinspect/nsinspect/schema/schematest"
)

// Every status and code the server sends is a row of
// schema/openapi.yaml's x-status-codes, and every error body validates
// against schema/error.json.
func TestErrorsDocumented(t *testing.T) {
	v, err := schematest.New()
	if err != nil {
		t.Fatal(err)
	}
	codes := v.StatusCodes()
	documented := func(status int, code string) {
		t.Helper()
		if !slices.Contains(codes[status], code) {
			t.Errorf("%d %s is sent but not in schema/openapi.yaml's x-status-codes (%d: %v)", status, code, status, codes[status])
		}
	}
	for _, s := range statusOf {
		if s.code != "" {
			documented(s.status, s.code)
			continue
		}
		for _, param := range []string{"target", "pid", "type", "kernel"} {
			documented(s.status, "bad_"+paramWord(param))
		}
	}
	documented(http.StatusInternalServerError, asError(errors.New("x")).Code)
	documented(http.StatusServiceUnavailable, asError(&PassError{errors.New("x")}).Code)
	var e *Error
	if errors.As(FromError(errors.New("x"), "a"), &e) {
		documented(e.Status, e.Code)
	}

	entered, busy := make(chan struct{}), make(chan struct{})
	h := NewHandler(Config{
		Endpoints: []Endpoint{{Path: "/api/x", Params: []string{"a"}, Live: true, Answer: func(_ context.Context, q Query) (any, error) {
			if q.Get("a") == "busy" {
				close(entered)
				<-busy
			}
			if _, err := q.Require("a"); err != nil {
				return nil, err
			}
			return nil, BadRequest("bad_type", "type: no")
		}}},
		Metrics:   http.NotFoundHandler(),
		Health:    func() (any, error) { return nil, errors.New("no pass yet") },
		LiveLimit: 1,
	})
	serve := func(method, target string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(method, target, nil))
		return w
	}
	done := make(chan struct{})
	go func() { serve("GET", "/api/x?a=busy"); close(done) }()
	<-entered // the one live request allowed is being answered
	answers := []*httptest.ResponseRecorder{serve("GET", "/api/x?a=1")}
	close(busy)
	<-done
	if answers[0].Code != http.StatusTooManyRequests {
		t.Errorf("a second live request: %d, want 429", answers[0].Code)
	}
	for _, c := range []struct{ method, target string }{
		{"GET", "/api/y"}, {"POST", "/api/x?a=1"}, {"GET", "/api/x"}, {"GET", "/api/x?a=1&a=2"},
		{"GET", "/api/x?b=1"}, {"GET", "/api/x?a=%"}, {"GET", "/api/x?a=" + strings.Repeat("x", MaxQuery)},
		{"GET", "/api/x?a=1"}, {"GET", "/healthz"}, {"GET", "/healthz?x=1"},
	} {
		answers = append(answers, serve(c.method, c.target))
	}
	for _, w := range answers {
		if err := v.Validate("error", w.Body.Bytes()); err != nil {
			t.Errorf("%d: %v", w.Code, err)
		}
		var e struct{ Error Error }
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error.Status != w.Code {
			t.Errorf("HTTP %d, body %s", w.Code, w.Body)
		}
		documented(w.Code, e.Error.Code)
	}
}
