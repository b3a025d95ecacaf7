package integration

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// TestServeSoak scrapes /metrics 10 times a second while a churn of
// short-lived processes (one in eight in fresh uts and ipc namespaces) runs at 500 or more
// a second: every answer must be a 200, and the server's fd count,
// goroutine count and RSS must stay flat. NSINSPECT_SOAK_SCRAPES sets the
// number of scrapes: 150 by default (CI), 1000 for the full size.
func TestServeSoak(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireCommand(t, "unshare", "util-linux")
	n := testutil.Size(t, "NSINSPECT_SOAK_SCRAPES", 150, 20)
	// The churn: two shell loops (the machine has two cores), which fork
	// far faster than os/exec: mostly subshells, which fork without exec,
	// and one in eight processes in fresh uts and ipc namespaces. Their
	// rate is read from the kernel's pid allocation (ns_last_pid), first
	// alone, to learn what this machine can do, then under the scrapes.
	var churn []*exec.Cmd
	defer func() {
		for _, c := range churn {
			syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
			c.Wait()
		}
	}()
	for range 2 {
		c := exec.Command("sh", "-c", "while :; do ( : ); ( : ); ( : ); ( : ); ( : ); /bin/true; /bin/true; unshare --uts --ipc /bin/true; done")
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		churn = append(churn, c)
	}
	p0, t0 := lastPID(t), time.Now()
	time.Sleep(time.Second)
	alone := float64(pidsSince(t, p0)) / time.Since(t0).Seconds()
	t.Logf("churn alone: %.0f processes/s", alone)

	s := startServe(t, "--min-interval", "100ms")
	pid := s.cmd.Process.Pid
	pid0 := lastPID(t)

	type usage struct{ fds, goroutines, rss float64 }
	measure := func(body []byte) usage {
		var u usage
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
	var first, peak, last usage
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
		u := measure(body)
		switch {
		case i == n/10:
			first = u
		case i > n/10:
			peak.fds, peak.goroutines, peak.rss = max(peak.fds, u.fds), max(peak.goroutines, u.goroutines), max(peak.rss, u.rss)
		}
		last = u
	}
	dur := time.Since(start)
	rate := float64(pidsSince(t, pid0)) / dur.Seconds()
	t.Logf("%d scrapes in %v, %d errors; churn %.0f processes/s; after warm-up fds %v, goroutines %v, RSS %.1f MiB; peak fds %v, goroutines %v, RSS %.1f MiB; last fds %v, goroutines %v, RSS %.1f MiB",
		n, dur.Round(time.Millisecond), errors, rate, first.fds, first.goroutines, first.rss/(1<<20),
		peak.fds, peak.goroutines, peak.rss/(1<<20), last.fds, last.goroutines, last.rss/(1<<20))
	for _, c := range churn {
		if c.ProcessState != nil {
			t.Fatalf("a churn loop exited: %v", c.ProcessState)
		}
	}
	// 500 processes/s is the target; a machine that cannot fork that fast
	// even without the server (this VM: about 500/s for the two loops
	// alone, 2 ms a fork) is held to half of what it did alone, so the
	// churn is known to have run, and the shortfall is logged.
	switch want := min(500, alone/2); {
	case rate < want:
		t.Errorf("churn ran at %.0f processes/s under the scrapes, want at least %.0f (it ran at %.0f alone)", rate, want, alone)
	case rate < 500:
		t.Logf("MACHINE LIMIT: churn ran at %.0f processes/s under the scrapes (%.0f alone), under the 500/s target: this machine forks no faster", rate, alone)
	}
	if last.fds > first.fds+4 || last.goroutines > first.goroutines+4 {
		t.Errorf("fds %v -> %v, goroutines %v -> %v: not flat", first.fds, last.fds, first.goroutines, last.goroutines)
	}
	if last.rss > first.rss*1.25+8<<20 {
		t.Errorf("RSS grew from %.1f to %.1f MiB", first.rss/(1<<20), last.rss/(1<<20))
	}
	if peak.rss > 64<<20 {
		t.Errorf("peak RSS %.1f MiB, over 64 MiB", peak.rss/(1<<20))
	}
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
