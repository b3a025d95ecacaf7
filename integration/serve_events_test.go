package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/internal/testutil"
)

// serve --events streams the machine's events on /api/events, filtered
// as watch filters them (?type=net&comm=unshare: an `unshare -n true` is
// streamed, an `unshare -u true` run before it is not), and counts them
// on /metrics; without --events /api/events is 503 events_off.
func TestServeEvents(t *testing.T) {
	requireTracer(t)
	testutil.RequireCommand(t, "unshare", "util-linux")
	s := startServe(t, "--events")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/api/events?type=net&comm=unshare", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("/api/events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	rd := bufio.NewReader(resp.Body)
	if line, err := rd.ReadString('\n'); err != nil || !strings.HasPrefix(line, ":") {
		t.Fatalf("first line %q: %v", line, err)
	}
	testutil.MustRun(t, testutil.Command(t, testutil.Quick, "unshare", "-u", "true"))
	testutil.MustRun(t, testutil.Command(t, testutil.Quick, "unshare", "-n", "true"))
	var ev inspect.TraceEvent
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("the stream ended before the unshare: %v", err)
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			if err := json.Unmarshal([]byte(data), &ev); err != nil {
				t.Fatalf("%q: %v", data, err)
			}
			break
		}
	}
	if ev.Event != "unshare" || strings.Join(ev.Flags, "|") != "CLONE_NEWNET" || ev.Caller.Comm != "unshare" {
		t.Errorf("first event streamed: %s %v by %s, want unshare(CLONE_NEWNET) by unshare (the uts one filtered out)", ev.Event, ev.Flags, ev.Caller.Comm)
	}
	cancel()
	_, body := s.get(t, "/metrics")
	for _, c := range []struct {
		re    string
		least float64
	}{
		{`(?m)^nsinspect_namespace_events_total\{event="unshare",type="net"\} (\S+)`, 1},
		{`(?m)^nsinspect_namespace_events_total\{event="unshare",type="uts"\} (\S+)`, 1},
		{`(?m)^nsinspect_events_lost_total (\S+)`, 0},
		{`(?m)^nsinspect_event_clients_dropped_total (\S+)`, 0},
	} {
		m := regexp.MustCompile(c.re).FindSubmatch(body)
		if m == nil {
			t.Errorf("/metrics has no %s", c.re)
			continue
		}
		if v, err := strconv.ParseFloat(string(m[1]), 64); err != nil || v < c.least {
			t.Errorf("/metrics: %s is %s, want at least %v", c.re, m[1], c.least)
		}
	}

	off := startServe(t)
	status, b := off.get(t, "/api/events")
	if status != 503 || !strings.Contains(string(b), `"events_off"`) {
		t.Errorf("/api/events without --events: %d %s", status, b)
	}
}

// setnsHostNet is a static C program that enters the initial network
// namespace (setns on /proc/2/ns/net: kthreadd's), then sleeps a second
// so that serve can still tell its container when it counts the entry.
const setnsHostNet = `#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>
int main(void) {
	int fd = open("/proc/2/ns/net", O_RDONLY);
	if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) { perror("setns"); return 1; }
	sleep(1);
	return 0;
}
`

// A process of a docker container (privileged, the host's pid namespace)
// that setns's into the host's network namespace is counted on
// nsinspect_container_host_namespace_entries_total with its container's
// engine, short id and the type entered; with --policy, on
// nsinspect_policy_event_violations_total of the event rule it violates.
func TestServeEventsHostEntry(t *testing.T) {
	requireTracer(t)
	e := requireEngine(t)
	prog := setnsProgram(t)
	pol := filepath.Join(t.TempDir(), "events.yaml")
	if err := os.WriteFile(pol, []byte(eventPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, "--events", "--policy", pol)
	name := "nsinspect-it-hostentry-" + strings.TrimPrefix(e.label, "nsinspect.test=")
	args := append([]string{"run", "--name", name, "--label", e.label, "--pid", "host", "-v", prog + ":/setns:ro", "--entrypoint", "/setns"}, e.privileged...)
	t.Cleanup(func() { docker(t, "rm", "-f", name) })
	if out, err := docker(t, append(args, image)...); err != nil {
		t.Fatalf("docker run: %v: %s", err, out)
	}
	id := strings.TrimSpace(mustDocker(t, "inspect", "-f", "{{.Id}}", name))
	want := regexp.MustCompile(`(?m)^nsinspect_container_host_namespace_entries_total\{engine="docker",id="` + id[:12] + `",type="net"\} (\S+)`)
	wantRule := regexp.MustCompile(`(?m)^nsinspect_policy_event_violations_total\{engine="docker",id="` + id[:12] + `",rule="containers-stay-out-of-host-namespaces"\} (\S+)`)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, body := s.get(t, "/metrics")
		m, r := want.FindSubmatch(body), wantRule.FindSubmatch(body)
		if m != nil && string(m[1]) == "1" && r != nil && string(r[1]) == "1" {
			if bytes.Contains(body, []byte("nsinspect_policy_event_undecided_total{")) {
				t.Errorf("an event rule undecided:\n%s", grepLines(body, "nsinspect_policy_event"))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s and %s of 1 on /metrics in 10 s:\n%s\n%s", want, wantRule, grepLines(body, "host_namespace_entries"), grepLines(body, "nsinspect_policy_event"))
		}
	}
}

// grepLines are the lines of b that contain s.
func grepLines(b []byte, s string) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
