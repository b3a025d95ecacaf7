package integration

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// TestServeSoak scrapes /metrics 10 times a second while a churn of
// short-lived processes (one in eight in fresh uts and ipc namespaces)
// runs as fast as this machine lets it. Every answer must be a 200; after
// a warm-up (the first tenth of the scrapes) the server's fd and goroutine
// counts must stay within ±2 of their values then, and its RSS must not
// trend upward: the median of the last third of the samples within 10 %
// of the first third's. The churn's rate is logged, not asserted (how fast
// a machine forks is a benchmark's business). NSINSPECT_SOAK_SCRAPES sets
// the number of scrapes: 150 by default (CI), 1000 for the full size.
func TestServeSoak(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireCommand(t, "unshare", "util-linux")
	n := testutil.Size(t, "NSINSPECT_SOAK_SCRAPES", 150, 20)
	// The churn: two shell loops (the machine has two cores), which fork
	// far faster than os/exec: mostly subshells, which fork without exec,
	// and one in eight processes in fresh uts and ipc namespaces. Their
	// rate is read from the kernel's pid allocation (ns_last_pid), alone
	// and then under the scrapes, for the log.
	var churn []*exec.Cmd
	defer func() {
		for _, c := range churn {
			syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
			c.Wait()
		}
	}()
	for range 2 {
		c := testutil.Command(t, testutil.Held, "sh", "-c", "while :; do ( : ); ( : ); ( : ); ( : ); ( : ); /bin/true; /bin/true; unshare --uts --ipc /bin/true; done")
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		churn = append(churn, c)
	}
	p0, t0 := lastPID(t), time.Now()
	time.Sleep(time.Second)
	alone := float64(pidsSince(t, p0)) / time.Since(t0).Seconds()

	s := startServe(t, "--min-interval", "100ms")
	pid := s.cmd.Process.Pid
	pid0 := lastPID(t)

	measure := func(body []byte) soakSample {
		var u soakSample
		for _, m := range parseMetrics(t, string(body)) {
			switch m.name {
			case "go_goroutines":
				u.goroutines = m.value
			case "process_resident_memory_bytes":
				u.rss = m.value
			}
		}
		ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		if err != nil {
			t.Fatal(err)
		}
		u.fds = float64(len(ents))
		return u
	}
	var samples []soakSample // after the warm-up
	errors := 0
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	for i := 0; i < n; i++ {
		<-tick.C
		status, body := s.get(t, "/metrics")
		if status != 200 {
			errors++
			if errors <= 5 {
				t.Errorf("scrape %d: %d %s", i, status, body)
			}
			continue
		}
		if i >= n/10 {
			samples = append(samples, measure(body))
		}
	}
	dur := time.Since(start)
	made := pidsSince(t, pid0)
	t.Logf("%d scrapes in %v, %d errors; churn %.0f processes/s under the scrapes (%d processes), %.0f/s alone",
		n, dur.Round(time.Millisecond), errors, float64(made)/dur.Seconds(), made, alone)
	for _, c := range churn {
		if c.ProcessState != nil {
			t.Fatalf("a churn loop exited: %v", c.ProcessState)
		}
	}
	if made == 0 {
		t.Fatal("no process was made during the scrapes: the churn did not run")
	}
	if errors > 0 {
		t.Errorf("%d of %d scrapes were not answered 200", errors, n)
	}
	checkSoakFlat(t, samples)
}

// soakSample is the server's usage after one scrape.
type soakSample struct{ fds, goroutines, rss float64 }

// soakWindow is how many samples make one second of scrapes.
const soakWindow = 10

// checkSoakFlat checks the samples taken after the warm-up: fds and
// goroutines within ±2 of their values in the first one, no upward trend
// in RSS (the median of the last third within 10 % of the first third's),
// and RSS under 64 MiB.
//
// fds are counted after each answer, when the server is idle, so every
// sample is held to it. go_goroutines is read during the scrape, beside
// the registry's collector goroutines and, every other scrape or so, a
// discovery pass, whose number varies from scrape to scrape: the fewest
// of each second's samples is the count with the least of that beside it,
// and each second's fewest is held to the first second's.
func checkSoakFlat(t *testing.T, samples []soakSample) {
	t.Helper()
	if len(samples) < 2*soakWindow {
		t.Fatalf("%d samples after the warm-up, want at least %d", len(samples), 2*soakWindow)
	}
	warm := samples[0]
	var off []string
	peak := 0.0
	for i, u := range samples {
		if math.Abs(u.fds-warm.fds) > 2 {
			off = append(off, fmt.Sprintf("sample %d: %v fds", i, u.fds))
		}
		peak = max(peak, u.rss)
	}
	var fewest []float64
	for i := 0; i < len(samples); i += soakWindow {
		w := samples[i:min(i+soakWindow, len(samples))]
		g := w[0].goroutines
		for _, u := range w {
			g = min(g, u.goroutines)
		}
		fewest = append(fewest, g)
		if math.Abs(g-fewest[0]) > 2 {
			off = append(off, fmt.Sprintf("second %d: at least %v goroutines", i/soakWindow, g))
		}
	}
	t.Logf("after warm-up %v fds, at least %v goroutines each second: %v", warm.fds, fewest[0], fewest)
	if len(off) > 0 {
		t.Errorf("after warm-up %v fds and at least %v goroutines; not within ±2 of them: %s",
			warm.fds, fewest[0], strings.Join(off[:min(5, len(off))], "; "))
	}
	third := len(samples) / 3
	first, last := medianRSS(samples[:third]), medianRSS(samples[len(samples)-third:])
	t.Logf("RSS median %.1f MiB over the first third of the samples, %.1f MiB over the last, peak %.1f MiB",
		first/(1<<20), last/(1<<20), peak/(1<<20))
	if last > first*1.10 {
		t.Errorf("RSS trends upward: median %.1f MiB over the first third of the samples, %.1f MiB over the last (more than 10 %%)", first/(1<<20), last/(1<<20))
	}
	if peak > 64<<20 {
		t.Errorf("peak RSS %.1f MiB, over 64 MiB", peak/(1<<20))
	}
}

func medianRSS(samples []soakSample) float64 {
	rss := make([]float64, len(samples))
	for i, u := range samples {
		rss[i] = u.rss
	}
	slices.Sort(rss)
	if n := len(rss); n%2 == 0 {
		return (rss[n/2-1] + rss[n/2]) / 2
	}
	return rss[len(rss)/2]
}

func lastPID(t *testing.T) int {
	b, err := os.ReadFile("/proc/sys/kernel/ns_last_pid")
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

// pidsSince is how many pids the kernel handed out since last was read,
// across a wrap at pid_max.
func pidsSince(t *testing.T, last int) int {
	now := lastPID(t)
	if now >= last {
		return now - last
	}
	b, _ := os.ReadFile("/proc/sys/kernel/pid_max")
	max, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return max - last + now
}
