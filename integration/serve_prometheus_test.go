package integration

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// sharedTypes are the types of nsinspect_container_host_namespace_shared.
var sharedTypes = []string{"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"}

// hostTruth is, per type, whether the container's init is in the test's
// own namespace (the test runs in the host's): the kernel's word,
// through readlink of /proc/PID/ns/TYPE.
func hostTruth(t *testing.T, pid int) map[string]bool {
	t.Helper()
	m := map[string]bool{}
	for _, typ := range sharedTypes {
		mine, err := os.Readlink("/proc/self/ns/" + typ)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, typ))
		if err != nil {
			t.Fatal(err)
		}
		m[typ] = mine == theirs
	}
	return m
}

// isolationContainers starts the four containers whose gauges the tests
// check: --network host, --pid host, --ipc host and the default.
func isolationContainers(t *testing.T, e *engine) map[string]container {
	return map[string]container{
		"hostnet": e.startHold(t, "hostnet", "--network", "host"),
		"hostpid": e.startHold(t, "hostpid", "--pid", "host"),
		"hostipc": e.startHold(t, "hostipc", "--ipc", "host"),
		"default": e.startHold(t, "default"),
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startPrometheus runs Debian's prometheus on 127.0.0.1 (a free port, a
// temporary storage directory) scraping target every second, and returns
// its base URL once it is ready. It is stopped at cleanup.
func startPrometheus(t *testing.T, target string) string {
	t.Helper()
	bin := testutil.RequireCommand(t, "prometheus", "prometheus")
	dir := t.TempDir()
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: nsinspect
    honor_labels: true
    static_configs:
      - targets: [%q]
`, target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cmd := testutil.Command(t, testutil.Held, bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr)
	logf, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	base := "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base
			}
		}
		select {
		case <-exited:
			b, _ := os.ReadFile(filepath.Join(dir, "prometheus.log"))
			t.Fatalf("prometheus exited:\n%s", b)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("prometheus not ready within 30 s")
		}
	}
}

// promSample is one series of an instant query's answer.
type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

func promQuery(t *testing.T, base, q string) []promSample {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []promSample `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Status != "success" {
		t.Fatalf("query %s: %v %s", q, err, r.Error)
	}
	return r.Data.Result
}

// TestServePrometheus: a real Prometheus scrapes `nsinspect serve`; for
// containers run with --network host, --pid host, --ipc host and the
// default, each nsinspect_container_host_namespace_shared series that
// Prometheus stored agrees with the kernel's namespace links.
func TestServePrometheus(t *testing.T) {
	e := requireEngine(t)
	testutil.RequireCommand(t, "prometheus", "prometheus")
	before := snapshot(t, e)
	t.Cleanup(func() { checkNoLeaks(t, e, before) })
	cs := isolationContainers(t, e)
	s := startServe(t, "--min-interval", "500ms")
	prom := startPrometheus(t, strings.TrimPrefix(s.base, "http://"))

	ids := []string{}
	for _, c := range cs {
		ids = append(ids, c.id)
	}
	q := fmt.Sprintf(`nsinspect_container_host_namespace_shared{job="nsinspect",container_id=~%q}`, strings.Join(ids, "|"))
	var got []promSample
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		if got = promQuery(t, prom, q); len(got) == len(cs)*len(sharedTypes) || time.Now().After(deadline) {
			break
		}
	}
	if len(got) != len(cs)*len(sharedTypes) {
		t.Fatalf("Prometheus has %d series for %s, want %d", len(got), q, len(cs)*len(sharedTypes))
	}
	checkShared(t, cs, func(id, typ string) (float64, bool) {
		for _, g := range got {
			if g.Metric["container_id"] == id && g.Metric["type"] == typ {
				v, err := strconv.ParseFloat(g.Value[1].(string), 64)
				return v, err == nil
			}
		}
		return 0, false
	})
	// What the default run shares is the engine's business, but these are
	// Docker's promises (README): the kernel must agree, and so must we.
	for _, want := range []struct{ name, typ string }{{"hostnet", "net"}, {"hostpid", "pid"}, {"hostipc", "ipc"}} {
		if !hostTruth(t, cs[want.name].pid)[want.typ] {
			t.Errorf("%s: the kernel says it does not share %s with the host", want.name, want.typ)
		}
	}
	up := promQuery(t, prom, `up{job="nsinspect"}`)
	if len(up) != 1 || up[0].Value[1] != "1" {
		t.Errorf("up = %v", up)
	}
	if n := promQuery(t, prom, `nsinspect_scan_success{job="nsinspect"}`); len(n) != 1 || n[0].Value[1] != "1" {
		t.Errorf("nsinspect_scan_success = %v", n)
	}
}

// checkShared compares each container's gauges with the kernel's truth.
func checkShared(t *testing.T, cs map[string]container, value func(id, typ string) (float64, bool)) {
	t.Helper()
	for name, c := range cs {
		truth := hostTruth(t, c.pid)
		for _, typ := range sharedTypes {
			v, ok := value(c.id, typ)
			want := 0.0
			if truth[typ] {
				want = 1
			}
			if !ok {
				t.Errorf("%s: no %s series", name, typ)
			} else if v != want {
				t.Errorf("%s: %s shared = %v, the kernel says %v", name, typ, v, want)
			}
		}
	}
}

var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$`)
var labelPair = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)

// metricSample is one line of the text exposition format.
type metricSample struct {
	name   string
	labels map[string]string
	value  float64
}

func parseMetrics(t *testing.T, text string) []metricSample {
	t.Helper()
	var out []metricSample
	for _, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("not an exposition line: %q", line)
		}
		v, err := strconv.ParseFloat(m[4], 64)
		if err != nil {
			t.Fatalf("bad value in %q", line)
		}
		s := metricSample{name: m[1], labels: map[string]string{}, value: v}
		for _, p := range labelPair.FindAllStringSubmatch(m[3], -1) {
			s.labels[p[1]] = p[2]
		}
		out = append(out, s)
	}
	return out
}

// sharedFrom looks a container's gauge up in parsed /metrics.
func sharedFrom(ms []metricSample) func(id, typ string) (float64, bool) {
	return func(id, typ string) (float64, bool) {
		for _, m := range ms {
			if m.name == "nsinspect_container_host_namespace_shared" && m.labels["container_id"] == id && m.labels["type"] == typ {
				return m.value, true
			}
		}
		return 0, false
	}
}
