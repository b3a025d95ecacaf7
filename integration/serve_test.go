package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// served is one `nsinspect serve` started by a test.
type served struct {
	cmd  *exec.Cmd
	base string // http://127.0.0.1:PORT
	done chan error
}

// startServe starts `nsinspect serve --listen 127.0.0.1:0 ARGS` and
// returns once it prints the address it listens on. At cleanup it sends
// SIGTERM and fails the test unless the server exits 0 within a second.
func startServe(t *testing.T, args ...string) *served {
	t.Helper()
	return startServeEnv(t, nil, args...)
}

// startServeEnv is startServe with extra environment variables.
func startServeEnv(t *testing.T, env []string, args ...string) *served {
	t.Helper()
	cmd := testutil.Command(t, testutil.Held, binary, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &served{cmd: cmd, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if a, ok := strings.CutPrefix(line, "nsinspect: serving on http://"); ok {
				addr <- strings.Fields(a)[0]
			} else if !strings.Contains(line, "note: BPF unavailable") && !strings.Contains(line, "SIGHUP") {
				t.Logf("serve stderr: %s", line)
			}
		}
		s.done <- cmd.Wait()
	}()
	select {
	case a := <-addr:
		s.base = "http://" + a
	case err := <-s.done:
		t.Fatalf("serve exited before listening: %v", err)
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("serve did not start listening within 20 s")
	}
	t.Cleanup(func() { s.stop(t) })
	return s
}

// stop sends SIGTERM and requires a clean exit within a second.
func (s *served) stop(t *testing.T) {
	if s.cmd.ProcessState != nil {
		return
	}
	start := time.Now()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if took := time.Since(start); took > time.Second {
			t.Errorf("serve took %v to stop on SIGTERM, want at most 1 s", took)
		}
		if err != nil {
			t.Errorf("serve exited with %v on SIGTERM, want 0", err)
		}
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		t.Error("serve did not stop within 5 s of SIGTERM")
	}
}

// get fetches path and returns the status and body.
func (s *served) get(t testing.TB, path string) (int, []byte) {
	t.Helper()
	return s.do(t, http.MethodGet, path)
}

// tryGet is get for a server that may not answer yet: status 0 when the
// request failed.
func (s *served) tryGet(path string) (int, []byte) {
	resp, err := http.Get(s.base + path)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (s *served) do(t testing.TB, method, path string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	checkAnswer(t, method, path, resp.StatusCode, b)
	return resp.StatusCode, b
}

// TestServeBadRequests: every bad request is a 4xx with a JSON error body
// whose code says what was wrong, never a 500 or a Go stack.
func TestServeBadRequests(t *testing.T) {
	testutil.RequireRoot(t)
	s := startServe(t, "--source", "proc")
	long := strings.Repeat("a", 2000)
	for _, c := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/nope", 404, "unknown_path"},
		{"GET", "/api", 404, "unknown_path"},
		{"GET", "/api/namespaces/", 404, "unknown_path"},
		{"POST", "/metrics", 405, "method_not_allowed"},
		{"DELETE", "/api/tasks", 405, "method_not_allowed"},
		{"PUT", "/api/compare?a=1&b=2", 405, "method_not_allowed"},
		{"GET", "/api/compare?a=1", 400, "missing_parameter"},
		{"GET", "/api/compare?b=1", 400, "missing_parameter"},
		{"GET", "/api/compare?a=0&b=1", 400, "bad_pid"},
		{"GET", "/api/compare?a=-4&b=1", 400, "bad_pid"},
		{"GET", "/api/compare?a=abc&b=1", 400, "bad_pid"},
		{"GET", "/api/compare?a=99999999999&b=1", 400, "bad_pid"},
		{"GET", "/api/compare?a=1&b=1&kernel=maybe", 400, "bad_parameter"},
		{"GET", "/api/compare?a=4194304&b=1", 404, "no_such_task"},
		{"GET", "/api/compare?a=1&a=2&b=3", 400, "repeated_parameter"},
		{"GET", "/api/compare?a=1&b=2&c=3", 400, "unknown_parameter"},
		{"GET", "/api/tasks?pid=x", 400, "bad_pid"},
		{"GET", "/api/tasks?pid=1:2", 404, "no_such_task"},
		{"GET", "/api/tasks?pid=4194304", 404, "no_such_task"},
		{"GET", "/api/namespaces?type=foo", 400, "bad_type"},
		{"GET", "/api/namespaces?task=nope", 400, "bad_pid"},
		{"GET", "/api/containers?x=1", 400, "unknown_parameter"},
		{"GET", "/api/audit", 400, "missing_parameter"},
		{"GET", "/api/audit?target=-1", 400, "bad_target"},
		{"GET", "/api/tasks?pid=%zz", 400, "bad_query"},
		{"GET", "/api/tasks?pid=" + long, 414, "query_too_long"},
		{"GET", "/healthz?x=1", 400, "unknown_parameter"},
	} {
		status, body := s.do(t, c.method, c.path)
		what := c.method + " " + c.path
		if len(what) > 80 {
			what = what[:80] + "..."
		}
		var e struct {
			Error struct {
				Status  int    `json:"status"`
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(body, &e); err != nil {
			t.Errorf("%s: body is not JSON (%v): %q", what, err, body)
			continue
		}
		if status != c.status || e.Error.Status != c.status || e.Error.Code != c.code {
			t.Errorf("%s: got %d %q (%s), want %d %q", what, status, e.Error.Code, e.Error.Message, c.status, c.code)
		}
		if strings.Contains(string(body), "goroutine ") || strings.Contains(string(body), ".go:") || strings.Contains(e.Error.Message, "\n") {
			t.Errorf("%s: the error body looks like a stack: %q", what, body)
		}
	}
}

// TestServeAnswersAsTheCLI: /api/compare is compare --json, and
// /api/namespaces?task=PID lists the namespaces ls --json -p PID does.
func TestServeAnswersAsTheCLI(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireCommand(t, "unshare", "util-linux")
	a := strconv.Itoa(unshareSleep(t, "--net", "--uts"))
	b := strconv.Itoa(unshareSleep(t, "--ipc"))
	s := startServe(t)

	status, body := s.get(t, "/api/compare?a="+a+"&b="+b)
	if status != 200 {
		t.Fatalf("/api/compare: %d %s", status, body)
	}
	cli := mustRun(t, "compare", "--json", a, b)
	var got, want any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal([]byte(cli), &want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("/api/compare differs from compare --json:\nserve: %s\ncli:   %s", body, cli)
	}

	status, body = s.get(t, "/api/namespaces?task="+a)
	if status != 200 {
		t.Fatalf("/api/namespaces: %d %s", status, body)
	}
	key := func(js []byte) map[string]bool {
		var v struct {
			Namespaces []struct {
				NS   uint64 `json:"ns"`
				Type string `json:"type"`
			} `json:"namespaces"`
		}
		if err := json.Unmarshal(js, &v); err != nil {
			t.Fatalf("not ls JSON: %v: %s", err, js)
		}
		m := map[string]bool{}
		for _, n := range v.Namespaces {
			m[fmt.Sprintf("%s:%d", n.Type, n.NS)] = true
		}
		return m
	}
	if g, w := key(body), key([]byte(mustRun(t, "ls", "--json", "-p", a))); !reflect.DeepEqual(g, w) || len(g) < 7 {
		t.Errorf("/api/namespaces?task=%s lists %v, ls --json -p lists %v", a, g, w)
	}

	status, body = s.get(t, "/api/tasks?pid="+a)
	var tasks struct {
		Tasks []struct {
			PID        int `json:"pid"`
			Namespaces map[string]*struct {
				NS uint64 `json:"ns"`
			} `json:"namespaces"`
		} `json:"tasks"`
	}
	if status != 200 || json.Unmarshal(body, &tasks) != nil || len(tasks.Tasks) != 1 {
		t.Fatalf("/api/tasks?pid=%s: %d %s", a, status, body)
	}
	link, _ := os.Readlink("/proc/" + a + "/ns/net")
	if n := tasks.Tasks[0].Namespaces["net"]; n == nil || fmt.Sprintf("net:[%d]", n.NS) != link {
		t.Errorf("/api/tasks: net %+v, the kernel says %s", n, link)
	}
	for _, path := range []string{"/api/namespaces", "/api/tasks", "/api/containers", "/healthz", "/metrics"} {
		status, body := s.get(t, path)
		if status != 200 {
			t.Errorf("%s: %d %s", path, status, body)
		}
		// Kernel addresses are never shown: the BPF source's object ids
		// are keyed hashes and are not in any answer either.
		if strings.Contains(string(body), "0xffff") || strings.Contains(string(body), "ffff8") {
			t.Errorf("%s: looks like a kernel address in the answer", path)
		}
	}
}
