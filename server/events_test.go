package server

import (
	"bufio"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/tracer"
)

// unshareEvent is an unshare event of pid that replaced the namespaces
// of the links named.
func unshareEvent(pid int, replaced ...string) *inspect.TraceEvent {
	r := &tracer.Event{Kind: tracer.Unshare}
	r.A = tracer.Task{TGID: pid, TID: pid, Comm: "unshare", Threads: 1}
	for i := range r.A.NS {
		r.A.NS[i] = tracer.NSRef{Ino: 4026531830 + uint64(i)}
	}
	r.B = r.A
	for i, l := range namespaces.Links {
		for _, name := range replaced {
			if l.Name == name {
				r.B.NS[i] = tracer.NSRef{Ino: 4026532200 + uint64(i)}
			}
		}
	}
	return inspect.TraceEventOf(r)
}

func eventsServer(t *testing.T, e *Events) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(NewHandler(Config{
		Endpoints: []Endpoint{e.Endpoint()},
		Metrics:   http.NotFoundHandler(),
		Health:    func() (any, error) { return nil, errors.New("unused") },
	}))
	t.Cleanup(srv.Close)
	return srv
}

// /api/events streams each published event that passes the client's
// filter as one `data:` line of watch --json's JSON, and counts every
// event by kind and namespace type changed.
func TestEventsStream(t *testing.T) {
	e := newEvents(prometheus.NewRegistry())
	srv := eventsServer(t, e)
	resp, err := http.Get(srv.URL + "/api/events?type=net")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	rd := bufio.NewReader(resp.Body)
	if line, err := rd.ReadString('\n'); err != nil || !strings.HasPrefix(line, ": nsinspect events") {
		t.Fatalf("first line %q, %v", line, err)
	}
	e.publish(unshareEvent(100, "uts")) // filtered out: not net
	e.publish(unshareEvent(101, "net"))
	done := make(chan string, 1)
	go func() {
		for {
			line, err := rd.ReadString('\n')
			if err != nil || strings.HasPrefix(line, "data: ") {
				done <- line
				return
			}
		}
	}()
	var line string
	select {
	case line = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("no event in 10 s")
	}
	var ev inspect.TraceEvent
	if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev); err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	if ev.Event != "unshare" || ev.Caller == nil || ev.Caller.PID != 101 {
		t.Errorf("streamed %+v, want the unshare of 101 (the uts one is filtered out)", ev)
	}
	for _, c := range []struct {
		typ  string
		want float64
	}{{"net", 1}, {"uts", 1}, {"none", 0}} {
		if got := value(e.events.WithLabelValues("unshare", c.typ)); got != c.want {
			t.Errorf("nsinspect_namespace_events_total{event=unshare,type=%s} %v, want %v", c.typ, got, c.want)
		}
	}
}

// A client that does not read is dropped once eventBuffer events wait
// for it, told so, and counted; the others go on.
func TestEventsDropSlowClient(t *testing.T) {
	e := newEvents(prometheus.NewRegistry())
	slow, err := e.subscribe(inspect.WatchFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range eventBuffer + 1 {
		e.publish(unshareEvent(200+i, "net"))
	}
	select {
	case <-slow.gone:
	default:
		t.Fatalf("a client %d events behind was not dropped", eventBuffer+1)
	}
	if got := value(e.dropped); got != 1 {
		t.Errorf("nsinspect_event_clients_dropped_total %v, want 1", got)
	}
	if len(e.clients) != 0 {
		t.Errorf("%d clients left", len(e.clients))
	}
	fast, _ := e.subscribe(inspect.WatchFilter{})
	e.publish(unshareEvent(999, "net"))
	if len(fast.ch) != 1 {
		t.Errorf("a new client got %d events, want 1", len(fast.ch))
	}
}

// Without --events, and with a bad filter, /api/events answers an error
// as every endpoint does; more than maxEventClients streams is a 429.
func TestEventsErrors(t *testing.T) {
	off := eventsServer(t, nil)
	e := newEvents(prometheus.NewRegistry())
	on := eventsServer(t, e)
	for _, c := range []struct {
		url    string
		status int
		code   string
	}{
		{off.URL + "/api/events", 503, "events_off"},
		{on.URL + "/api/events?type=bogus", 400, "bad_type"},
		{on.URL + "/api/events?pid=-1", 400, "bad_pid"},
		{on.URL + "/api/events?what=1", 400, "unknown_parameter"},
		{on.URL + "/api/events?container=self", 400, "bad_target"},
		{on.URL + "/api/events?container=docker:", 400, "bad_target"},
	} {
		resp, err := http.Get(c.url)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Error Error `json:"error"`
		}
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != c.status || body.Error.Code != c.code {
			t.Errorf("%s: %d %q, want %d %q", c.url, resp.StatusCode, body.Error.Code, c.status, c.code)
		}
	}
	for range maxEventClients {
		if _, err := e.subscribe(inspect.WatchFilter{}); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.Get(on.URL + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("stream %d: status %d, want 429", maxEventClients+1, resp.StatusCode)
	}
}

// value is a counter's value.
func value(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

// A death event counts once in nsinspect_namespaces_died_total and in
// nsinspect_namespace_events_total under its namespace's type; a
// client filtering by another type, or by pid, does not get it.
func TestEventsDeath(t *testing.T) {
	e := newEvents(prometheus.NewRegistry())
	byType, err := e.subscribe(inspect.WatchFilter{Types: []namespaces.Type{namespaces.Net}})
	if err != nil {
		t.Fatal(err)
	}
	byPID, err := e.subscribe(inspect.WatchFilter{PID: 1})
	if err != nil {
		t.Fatal(err)
	}
	death := func(typ namespaces.Type, ino uint64) *inspect.TraceEvent {
		return inspect.TraceEventOf(&tracer.Event{Kind: tracer.Death, NSType: typ, NS: tracer.NSRef{Ino: ino}})
	}
	e.publish(death(namespaces.Net, 4026532300))
	e.publish(death(namespaces.UTS, 4026532301))
	for _, c := range []struct {
		typ  string
		want float64
	}{{"net", 1}, {"uts", 1}, {"none", 0}} {
		if got := value(e.died.WithLabelValues(c.typ)); got != c.want {
			t.Errorf("nsinspect_namespaces_died_total{type=%s} %v, want %v", c.typ, got, c.want)
		}
		if got := value(e.events.WithLabelValues("death", c.typ)); got != c.want {
			t.Errorf("nsinspect_namespace_events_total{event=death,type=%s} %v, want %v", c.typ, got, c.want)
		}
	}
	if n := len(byType.ch); n != 1 {
		t.Errorf("the type=net client got %d deaths, want 1", n)
	} else if line := <-byType.ch; !strings.Contains(string(line), `"namespace":{"type":"net","ino":4026532300}`) {
		t.Errorf("the type=net client got %s", line)
	}
	if n := len(byPID.ch); n != 0 {
		t.Errorf("the pid=1 client got %d deaths, want none (a death has no task)", n)
	}
}
