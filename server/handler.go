package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// MaxQuery is the longest query string accepted (bytes, before
// decoding): every parameter the API takes is a PID or a short name.
const MaxQuery = 1024

// Endpoint is one path of the API.
type Endpoint struct {
	Path string
	// Params are the query parameters the endpoint takes; any other is
	// a 400, and none may be given twice.
	Params []string
	// Live marks an endpoint that reads tasks itself (compare, audit)
	// rather than the cached pass: those are limited to LiveLimit at
	// once, beyond which the answer is 429.
	Live bool
	// Answer returns the value to send as JSON, or an error: an *Error
	// as it is, anything else as asError says.
	Answer func(ctx context.Context, q Query) (any, error)
	// Stream, instead of Answer, writes a stream itself (/api/events);
	// an error it returns before it wrote anything is answered as
	// Answer's are.
	Stream func(w http.ResponseWriter, r *http.Request, q Query) error
}

// Query is a request's validated query parameters.
type Query struct{ v url.Values }

// Get is the parameter's value, "" when absent.
func (q Query) Get(name string) string { return q.v.Get(name) }

// Require is the parameter's value, or a 400 naming it when absent or
// empty.
func (q Query) Require(name string) (string, error) {
	s := q.v.Get(name)
	if s == "" {
		return "", BadRequest("missing_parameter", "missing query parameter %q", name)
	}
	return s, nil
}

// Config is what NewHandler serves.
type Config struct {
	Endpoints []Endpoint
	Metrics   http.Handler // /metrics
	// Health answers /healthz: 200 with the value when err is nil, else
	// 503 with err.
	Health func() (any, error)
	// LiveLimit bounds the Live requests served at once (default 4).
	LiveLimit int
}

// NewHandler returns the server's one handler: every request is checked
// here (method, path, query size and parameters) before an endpoint
// sees it, and every answer other than /metrics' is JSON, errors
// included. A panic in an endpoint is a 500 with one line, never a
// stack.
func NewHandler(cfg Config) http.Handler {
	if cfg.LiveLimit <= 0 {
		cfg.LiveLimit = 4
	}
	h := &handler{cfg: cfg, paths: map[string]*Endpoint{}, live: make(chan struct{}, cfg.LiveLimit)}
	for i := range cfg.Endpoints {
		h.paths[cfg.Endpoints[i].Path] = &cfg.Endpoints[i]
	}
	return h
}

type handler struct {
	cfg   Config
	paths map[string]*Endpoint
	live  chan struct{}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			writeError(w, Errorf(http.StatusInternalServerError, "internal", "internal error while answering %s (nsinspect's bug, please report it)", r.URL.Path))
		}
	}()
	if err := h.check(w, r); err != nil {
		writeError(w, err)
		return
	}
	switch r.URL.Path {
	case "/metrics":
		h.cfg.Metrics.ServeHTTP(w, r)
		return
	case "/healthz":
		h.health(w)
		return
	}
	ep := h.paths[r.URL.Path]
	q, err := query(r.URL.RawQuery, ep.Params)
	if err != nil {
		writeError(w, err)
		return
	}
	if ep.Live {
		select {
		case h.live <- struct{}{}:
			defer func() { <-h.live }()
		default:
			w.Header().Set("Retry-After", "1")
			writeError(w, Errorf(http.StatusTooManyRequests, "busy", "%d requests to %s and its kind are being answered already; retry", h.cfg.LiveLimit, r.URL.Path))
			return
		}
	}
	if ep.Stream != nil {
		if err := ep.Stream(w, r, q); err != nil {
			writeError(w, asError(err))
		}
		return
	}
	v, aerr := ep.Answer(r.Context(), q)
	if aerr != nil {
		writeError(w, asError(aerr))
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// check refuses what no endpoint takes: a method other than GET or HEAD,
// an unknown path, an oversized query.
func (h *handler) check(w http.ResponseWriter, r *http.Request) *Error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		return Errorf(http.StatusMethodNotAllowed, "method_not_allowed", "method %s not allowed: the server is read-only (GET or HEAD)", r.Method)
	}
	if len(r.URL.RawQuery) > MaxQuery {
		return Errorf(http.StatusRequestURITooLong, "query_too_long", "query of %d bytes: at most %d are accepted", len(r.URL.RawQuery), MaxQuery)
	}
	switch p := r.URL.Path; {
	case p == "/metrics" || p == "/healthz":
		if r.URL.RawQuery != "" && p == "/healthz" {
			return BadRequest("unknown_parameter", "/healthz takes no query parameters")
		}
		return nil
	case h.paths[p] != nil:
		return nil
	}
	return NotFound("unknown_path", "no such path %s (try %s)", strconv.Quote(r.URL.Path), strings.Join(h.pathList(), ", "))
}

func (h *handler) pathList() []string {
	l := []string{"/metrics", "/healthz"}
	for p := range h.paths {
		l = append(l, p)
	}
	slices.Sort(l[2:])
	return l
}

// query parses raw strictly: only the names in allowed, each once.
func query(raw string, allowed []string) (Query, *Error) {
	v, err := url.ParseQuery(raw)
	if err != nil {
		return Query{}, BadRequest("bad_query", "malformed query: %v", err)
	}
	for name, vals := range v {
		if !slices.Contains(allowed, name) {
			if len(allowed) == 0 {
				return Query{}, BadRequest("unknown_parameter", "unknown query parameter %q: this path takes none", name)
			}
			return Query{}, BadRequest("unknown_parameter", "unknown query parameter %q (this path takes %s)", name, strings.Join(allowed, ", "))
		}
		if len(vals) > 1 {
			return Query{}, BadRequest("repeated_parameter", "query parameter %q given %d times", name, len(vals))
		}
	}
	return Query{v}, nil
}

func (h *handler) health(w http.ResponseWriter) {
	v, err := h.cfg.Health()
	if err != nil {
		writeError(w, Errorf(http.StatusServiceUnavailable, "unhealthy", "%v", err))
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// writeJSON writes v as the CLI prints it (two-space indent, no HTML
// escaping, a final newline), so that an answer and `nsinspect ... --json`
// are byte for byte comparable.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := MarshalJSON(v)
	if err != nil {
		writeError(w, Errorf(http.StatusInternalServerError, "internal", "encoding the answer: %v", err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// MarshalJSON encodes v as the CLI's --json does.
func MarshalJSON(v any) ([]byte, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}
