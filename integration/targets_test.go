package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// Every command and endpoint that takes a task takes it in the one target
// grammar (inspect.ParseTarget, inspect.Resolve): a container's name
// resolves to its init, and a task that is gone is exit 2 on the command
// line and 404 no_such_task over HTTP, whichever command was asked.

// targetRun is one command line that names a task, and how to find the
// task's host PID in what it printed.
type targetRun struct {
	args []string
	pid  func(t *testing.T, stdout string) int // nil: look for the PID in the text
}

// targetRuns are the commands that take a task, each naming target.
func targetRuns(target string) []targetRun {
	return []targetRun{
		{[]string{"show", target, "--json"}, jsonPID("pid")},
		{[]string{"fds", target, "--json"}, jsonPID("pid")},
		{[]string{"compare", "self", target, "--json"}, jsonPID("b", "pid")},
		{[]string{"ls", "-p", target, "--json"}, nil},
		{[]string{"graph", "-p", target}, nil},
		{[]string{"nsproxy", "-p", target, "--json"}, jsonPID("task", "pid")},
		{[]string{"audit", target, "--json"}, func(t *testing.T, out string) int {
			var a struct {
				Targets []struct {
					Target struct{ PID int }
				}
			}
			decode(t, out, &a)
			if len(a.Targets) != 1 {
				t.Fatalf("audit: %d targets, want 1", len(a.Targets))
			}
			return a.Targets[0].Target.PID
		}},
	}
}

// jsonPID reads the number at path in a JSON object.
func jsonPID(path ...string) func(*testing.T, string) int {
	return func(t *testing.T, out string) int {
		var v any
		decode(t, out, &v)
		for _, k := range path {
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("no %q in %.300s", strings.Join(path, "."), out)
			}
			v = m[k]
		}
		n, ok := v.(float64)
		if !ok {
			t.Fatalf("%s is %v, not a number", strings.Join(path, "."), v)
		}
		return int(n)
	}
}

func decode(t *testing.T, out string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("not JSON (%v): %.300s", err, out)
	}
}

// compact is a JSON document without its layout, for substring checks.
func compact(t *testing.T, doc string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(doc)); err != nil {
		t.Fatalf("not JSON (%v): %.300s", err, doc)
	}
	return b.String()
}

// nsLinkIno is the inode of /proc/PID/ns/LINK.
func nsLinkIno(t *testing.T, pid int, link string) string {
	t.Helper()
	l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, link))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(l[strings.Index(l, "[")+1:], "]")
}

// TestTargetDocker names a Docker container as docker:NAME to every
// command and endpoint that takes a task: each answers about the
// container's init (its host PID), exit 0 and 200, with JSON that matches
// its schema (runCmd and served.do check it). A container that is not
// there is exit 2 and 404 no_such_container.
func TestTargetDocker(t *testing.T) {
	e := requireEngine(t)
	before := snapshot(t, e)
	t.Cleanup(func() { checkNoLeaks(t, e, before) })
	c := e.startHold(t, "targets")
	target := "docker:" + c.name
	netIno := nsLinkIno(t, c.pid, "net")

	for _, run := range targetRuns(target) {
		what := "nsinspect " + strings.Join(run.args, " ")
		r := nsinspect(t, run.args...)
		if r.code != 0 {
			t.Errorf("%s: exit %d, want 0; stderr %q", what, r.code, r.stderr)
			continue
		}
		switch {
		case run.pid != nil:
			if pid := run.pid(t, r.stdout); pid != c.pid {
				t.Errorf("%s: answered about PID %d, want the container's init %d", what, pid, c.pid)
			}
		case run.args[0] == "ls":
			if !strings.Contains(compact(t, r.stdout), `"ns":`+netIno+",") {
				t.Errorf("%s: the container's net namespace %s is not listed: %.500s", what, netIno, r.stdout)
			}
		case run.args[0] == "graph":
			if !strings.Contains(r.stdout, fmt.Sprintf(`"p%d" [label="%d `, c.pid, c.pid)) {
				t.Errorf("%s: no node for the container's init p%d in: %.500s", what, c.pid, r.stdout)
			}
		}
	}

	gone := "docker:nsinspect-it-absent-" + strings.TrimPrefix(e.label, "nsinspect.test=")
	for _, run := range targetRuns(gone) {
		r := nsinspect(t, run.args...)
		checkOneLineError(t, r, 2, strings.Join(run.args, " "))
	}

	s := startServe(t, "--source", "proc")
	q := url.QueryEscape(target)
	for _, c := range []struct{ path, has string }{
		{"/api/namespaces?task=" + q, `"ns":` + netIno + ","},
		{"/api/tasks?pid=" + q, fmt.Sprintf(`"pid":%d,`, c.pid)},
		{"/api/compare?a=self&b=" + q, fmt.Sprintf(`"b":{"pid":%d,`, c.pid)},
		{"/api/audit?target=" + q, fmt.Sprintf(`"pid":%d,`, c.pid)},
	} {
		status, body := s.get(t, c.path)
		if status != 200 || !strings.Contains(compact(t, string(body)), c.has) {
			t.Errorf("GET %s: %d, want 200 with %s in: %.500s", c.path, status, c.has, body)
		}
	}
	for _, path := range endpointsNaming(url.QueryEscape(gone)) {
		checkAPIError(t, s, path, 404, "no_such_container")
	}
}

// TestTargetVanished names a process that has exited to every command
// and endpoint that takes a task: exit 2 with one line saying so, and
// 404 no_such_task.
func TestTargetVanished(t *testing.T) {
	testutil.RequireRoot(t)
	cmd := testutil.Command(t, testutil.Quick, "true")
	testutil.MustRun(t, cmd)
	pid := cmd.Process.Pid // exited and reaped
	arg := strconv.Itoa(pid)
	for _, run := range targetRuns(arg) {
		if _, err := os.Stat("/proc/" + arg); err == nil {
			t.Fatalf("PID %d was reused by another process: run again", pid)
		}
		r := nsinspect(t, run.args...)
		what := strings.Join(run.args, " ")
		checkOneLineError(t, r, 2, what)
		if !strings.Contains(r.stderr, "no process with PID "+arg) {
			t.Errorf("%s: %q does not say that PID %d does not exist", what, r.stderr, pid)
		}
	}
	s := startServe(t, "--source", "proc")
	for _, path := range endpointsNaming(arg) {
		checkAPIError(t, s, path, 404, "no_such_task")
	}
}

// endpointsNaming are the paths of serve that take a task, naming arg.
func endpointsNaming(arg string) []string {
	return []string{
		"/api/namespaces?task=" + arg,
		"/api/tasks?pid=" + arg,
		"/api/compare?a=self&b=" + arg,
		"/api/audit?target=" + arg,
	}
}

// checkAPIError asserts an error answer's status and code.
func checkAPIError(t *testing.T, s *served, path string, status int, code string) {
	t.Helper()
	got, body := s.get(t, path)
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || got != status || e.Error.Code != code {
		t.Errorf("GET %s: %d %q, want %d %q (%v): %.300s", path, got, e.Error.Code, status, code, err, body)
	}
}
