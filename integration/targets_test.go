package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"os"
	"slices"
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
// its schema (runCmd and served.do check it), and fds, show, compare and
// ls agree with the init's /proc links. A container that is not there is
// exit 2 with one line on stderr, and 404 no_such_container.
func TestTargetDocker(t *testing.T) {
	e := requireEngine(t)
	before := snapshot(t, e)
	t.Cleanup(func() { checkNoLeaks(t, e, before) })
	c := e.startHold(t, "targets")
	target := "docker:" + c.name
	checkTargetRuns(t, target, c.pid)
	checkTargetAnswers(t, target, c.pid)

	gone := "docker:nsinspect-it-absent-" + strings.TrimPrefix(e.label, "nsinspect.test=")
	checkTargetAbsent(t, gone)

	checkTargetAPI(t, target, c.pid, gone)
}

// checkTargetAPI names target and gone to serve's endpoints that take a
// task: 200 about pid for target, 404 no_such_container for gone.
func checkTargetAPI(t *testing.T, target string, pid int, gone string) {
	t.Helper()
	netIno := nsLinkIno(t, pid, "net")
	s := startServe(t, "--source", "proc")
	q := url.QueryEscape(target)
	for _, c := range []struct{ path, has string }{
		{"/api/namespaces?task=" + q, `"ns":` + netIno + ","},
		{"/api/tasks?pid=" + q, fmt.Sprintf(`"pid":%d,`, pid)},
		{"/api/compare?a=self&b=" + q, fmt.Sprintf(`"b":{"pid":%d,`, pid)},
		{"/api/audit?target=" + q, fmt.Sprintf(`"pid":%d,`, pid)},
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

// checkTargetRuns runs every command that takes a task on target and
// checks that each answers about pid, exit 0.
func checkTargetRuns(t *testing.T, target string, pid int) {
	t.Helper()
	netIno := nsLinkIno(t, pid, "net")
	for _, run := range targetRuns(target) {
		what := "nsinspect " + strings.Join(run.args, " ")
		r := nsinspect(t, run.args...)
		if r.code != 0 {
			t.Errorf("%s: exit %d, want 0; stderr %q", what, r.code, r.stderr)
			continue
		}
		switch {
		case run.pid != nil:
			if got := run.pid(t, r.stdout); got != pid {
				t.Errorf("%s: answered about PID %d, want the container's init %d", what, got, pid)
			}
		case run.args[0] == "ls":
			if !strings.Contains(compact(t, r.stdout), `"ns":`+netIno+",") {
				t.Errorf("%s: the container's net namespace %s is not listed: %.500s", what, netIno, r.stdout)
			}
		case run.args[0] == "graph":
			if !strings.Contains(r.stdout, fmt.Sprintf(`"p%d" [label="%d `, pid, pid)) {
				t.Errorf("%s: no node for the container's init p%d in: %.500s", what, pid, r.stdout)
			}
		}
	}
}

// checkTargetAnswers asks fds (JSON and table), show, compare and ls -p
// about target and checks each answer against the /proc links of pid,
// the container's init as its engine names it: the same fds, each to the
// same file, and the same namespaces.
func checkTargetAnswers(t *testing.T, target string, pid int) {
	t.Helper()
	links := nsLinkTexts(t, pid)
	run := func(args ...string) string {
		t.Helper()
		r := nsinspect(t, args...)
		if r.code != 0 {
			t.Fatalf("nsinspect %s: exit %d, want 0; stderr %q", strings.Join(args, " "), r.code, r.stderr)
		}
		return r.stdout
	}

	// fds: the init is idle in hold, so its fd table is the same before
	// and after nsinspect reads it; if not, the comparison means nothing.
	before := testutil.FDs(t, pid)
	if len(before) == 0 {
		t.Fatalf("/proc/%d/fd is empty: nothing to compare fds with", pid)
	}
	var fds fdsOut
	decode(t, run("fds", target, "--json"), &fds)
	table := run("fds", target)
	if after := testutil.FDs(t, pid); !maps.Equal(before, after) {
		t.Fatalf("PID %d changed its fd table while fds read it: %v, then %v", pid, before, after)
	}
	if fds.PID != pid {
		t.Errorf("fds %s --json: pid %d, want the container's init %d", target, fds.PID, pid)
	}
	got := map[int]string{}
	for _, f := range fds.FDs {
		got[f.FD] = f.Path
	}
	if !maps.Equal(got, before) {
		t.Errorf("fds %s --json: fd -> path %v, /proc/%d/fd has %v", target, got, pid, before)
	}
	var listed []int
	for _, line := range strings.Split(strings.TrimSpace(table), "\n")[1:] {
		n, err := strconv.Atoi(strings.Fields(line)[0])
		if err != nil {
			t.Fatalf("fds %s: row %q does not start with an fd number", target, line)
		}
		listed = append(listed, n)
	}
	if want := slices.Sorted(maps.Keys(before)); !slices.Equal(listed, want) {
		t.Errorf("fds %s: fds %v, /proc/%d/fd has %v:\n%s", target, listed, pid, want, table)
	}

	// show: the pid row and one ns/NAME row per link, as readlink says it.
	shown := map[string]string{}
	for _, line := range strings.Split(run("show", target), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.Contains(k, " ") {
			if f := strings.Fields(v); len(f) > 0 {
				shown[k] = f[0]
			}
		}
	}
	if shown["pid"] != strconv.Itoa(pid) {
		t.Errorf("show %s: pid %q, want the container's init %d", target, shown["pid"], pid)
	}
	for name, link := range links {
		if shown["ns/"+name] != link {
			t.Errorf("show %s: ns/%s %q, /proc/%d/ns/%s is %q", target, name, shown["ns/"+name], pid, name, link)
		}
	}

	// compare: b is the container's init, and each namespace's evidence
	// for b is its link's inode. The container has a network and a mount
	// namespace of its own: nsinspect's are not shared with it.
	var cmp struct {
		B struct {
			PID int `json:"pid"`
		} `json:"b"`
		Resources []struct {
			Name     string `json:"name"`
			Kind     string `json:"kind"`
			Shared   *bool  `json:"shared"`
			Evidence struct {
				B *struct {
					Type string `json:"type"`
					NS   uint64 `json:"ns"`
				} `json:"b"`
			} `json:"evidence"`
		} `json:"resources"`
	}
	doc := run("compare", "self", target, "--json")
	decode(t, doc, &cmp)
	if cmp.B.PID != pid {
		t.Errorf("compare self %s: b is PID %d, want the container's init %d", target, cmp.B.PID, pid)
	}
	compared := map[string]string{}
	for _, r := range cmp.Resources {
		if r.Kind != "namespace" {
			continue
		}
		if r.Evidence.B == nil {
			t.Errorf("compare self %s: no evidence for b's %s namespace", target, r.Name)
			continue
		}
		compared[r.Name] = fmt.Sprintf("%s:[%d]", r.Evidence.B.Type, r.Evidence.B.NS)
		if (r.Name == "net" || r.Name == "mnt") && (r.Shared == nil || *r.Shared) {
			shared := "null"
			if r.Shared != nil {
				shared = strconv.FormatBool(*r.Shared)
			}
			t.Errorf("compare self %s: %s shared %s, want false (the container has its own)", target, r.Name, shared)
		}
	}
	if !maps.Equal(compared, links) {
		t.Errorf("compare self %s: b's namespaces %v, /proc/%d/ns has %v", target, compared, pid, links)
	}

	// ls -p: exactly the namespaces the init is in (the *_for_children
	// links name namespaces it is not in yet; for hold they are the same).
	var ls struct {
		Namespaces []struct {
			NS   uint64 `json:"ns"`
			Type string `json:"type"`
		} `json:"namespaces"`
	}
	decode(t, run("ls", "-p", target, "--json"), &ls)
	var inLs, want []string
	for _, n := range ls.Namespaces {
		inLs = append(inLs, fmt.Sprintf("%s:[%d]", n.Type, n.NS))
	}
	for name, link := range links {
		if !strings.HasSuffix(name, "_for_children") {
			want = append(want, link)
		}
	}
	slices.Sort(inLs)
	slices.Sort(want)
	if !slices.Equal(inLs, want) {
		t.Errorf("ls -p %s: namespaces %v, /proc/%d/ns has %v", target, inLs, pid, want)
	}
}

// nsLinkTexts reads /proc/PID/ns: link name to its text ("net:[4026532008]").
func nsLinkTexts(t *testing.T, pid int) map[string]string {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/ns", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, e := range ents {
		if m[e.Name()], err = os.Readlink(dir + "/" + e.Name()); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// checkTargetAbsent names a container that is not there to every command
// that takes a task, and to fds and show as tables: exit 2, one line on
// stderr that names it.
func checkTargetAbsent(t *testing.T, gone string) {
	t.Helper()
	runs := [][]string{{"fds", gone}, {"show", gone}}
	for _, run := range targetRuns(gone) {
		runs = append(runs, run.args)
	}
	for _, args := range runs {
		what := strings.Join(args, " ")
		r := nsinspect(t, args...)
		checkOneLineError(t, r, 2, what)
		if !strings.Contains(r.stderr, gone) {
			t.Errorf("%s: %q does not name %s", what, r.stderr, gone)
		}
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
