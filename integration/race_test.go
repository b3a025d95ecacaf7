package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/procinfo"
)

// raceDuration is how long TestRaceUnderChurn runs: 15 s by default (CI),
// NSINSPECT_RACE_SECONDS=60 for the full minute.
func raceDuration(t *testing.T) time.Duration {
	return time.Duration(testutil.Size(t, "NSINSPECT_RACE_SECONDS", 15, 1)) * time.Second
}

// raceFailures collects what goroutines found; t.Errorf for each at the end.
type raceFailures struct {
	mu   sync.Mutex
	msgs []string
}

func (f *raceFailures) add(format string, a ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs = append(f.msgs, fmt.Sprintf(format, a...))
}

// target is a short-lived process in fresh uts and ipc namespaces whose
// ids the test read itself, before any nsinspect run.
type target struct {
	cmd      *exec.Cmd
	pid      int
	uts, ipc uint64
	reaped   atomic.Bool // reaped by the test while nsinspect may be reading it
}

// TestRaceUnderChurn runs show, compare, fds, ls and nsproxy over and over
// while a churn of short-lived processes (a quarter of them in fresh
// namespaces) runs, for NSINSPECT_RACE_SECONDS (15 by default). Allowed:
// exit 0 with data that is the target's own (its pid, its uts and ipc ids,
// read by the test beforehand), or one line saying the target exited:
// exit 2 (gone before it was pinned), or exit 5 (gone while it was read:
// show, fds, ls -p, and compare's "exited during the comparison"). Anything else, or another process's data, fails the test.
func TestRaceUnderChurn(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireCommand(t, "unshare", "util-linux")
	dur := raceDuration(t)
	anchor := unshareSleep(t, "--uts", "--ipc")
	anchorIDs := nsIDs(t, anchor)
	stop := time.Now().Add(dur)
	var fails raceFailures
	var wg sync.WaitGroup

	var spawned atomic.Int64
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(stop); i++ {
				argv := []string{"true"}
				switch i % 8 {
				case 0:
					argv = []string{"unshare", "--uts", "--ipc", "true"}
				case 4:
					argv = []string{"unshare", "--net", "true"}
				}
				if _, err := testutil.Run(testutil.Quick, argv[0], argv[1:]...); err != nil {
					fails.add("churn %v: %v", argv, err)
					return
				}
				spawned.Add(1)
			}
		}()
	}

	var runs, gone atomic.Int64
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(stop); i++ {
				tg, err := startTarget(t)
				if err != nil {
					fails.add("starting a target: %v", err)
					return
				}
				// Half the targets are reaped as soon as they exit, so
				// their pid disappears while nsinspect reads it; the other
				// half stay zombies until the checks are done.
				reap := i%2 == 0
				if reap {
					go func() { tg.cmd.Wait(); tg.reaped.Store(true) }()
				}
				pid := strconv.Itoa(tg.pid)
				checkTarget(&fails, &gone, tg, "show", nsinspect(t, "show", "--json", pid), anchorIDs)
				checkTarget(&fails, &gone, tg, "compare", nsinspect(t, "compare", "--json", pid, strconv.Itoa(anchor)), anchorIDs)
				checkTarget(&fails, &gone, tg, "fds", nsinspect(t, "fds", "--json", pid), anchorIDs)
				runs.Add(3)
				if !reap {
					tg.cmd.Wait()
				}
				if i%4 == 0 {
					checkHostWide(&fails, anchor, anchorIDs, "ls", nsinspect(t, "ls", "--json"))
					checkHostWide(&fails, anchor, anchorIDs, "nsproxy", nsinspect(t, "nsproxy", "--json"))
					runs.Add(2)
				}
			}
		}()
	}
	wg.Wait()
	rate := float64(spawned.Load()) / dur.Seconds()
	t.Logf("%v: %d churn processes (%.0f/s), %d nsinspect runs, %d clean 'gone' exits", dur, spawned.Load(), rate, runs.Load(), gone.Load())
	for i, m := range fails.msgs {
		if i == 20 {
			t.Errorf("... and %d more", len(fails.msgs)-20)
			break
		}
		t.Error(m)
	}
}

// startTarget starts `unshare --uts --ipc sh -c 'echo ready; exec sleep
// 0.0NN'` and reads its namespace ids through its own pin while it
// certainly lives (it has not been told anything and sleeps at least 1 ms
// after the ready line; if it is gone already the read fails and a new
// one is made).
func startTarget(t testing.TB) (*target, error) {
	for {
		ms := 1 + rand.IntN(40)
		cmd := testutil.Command(t, testutil.Quick, "unshare", "--uts", "--ipc", "sh", "-c", fmt.Sprintf("echo ready; exec sleep 0.%03d", ms))
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
			cmd.Process.Kill()
			cmd.Wait()
			return nil, fmt.Errorf("target did not start: %q, %v", line, err)
		}
		tg := &target{cmd: cmd, pid: cmd.Process.Pid}
		p, err := procinfo.Open(tg.pid)
		if err == nil {
			uts, err1 := p.Namespace("uts")
			ipc, err2 := p.Namespace("ipc")
			p.Close()
			if err1 == nil && err2 == nil {
				tg.uts, tg.ipc = ident(uts.ID, uts.Ino), ident(ipc.ID, ipc.Ino)
				return tg, nil
			}
		}
		cmd.Wait()
	}
}

// checkTarget judges one run on a target: exit 0 with the target's own
// data, a clean "no such task" exit 2 (gone before it was pinned), or a
// clean "exited" exit 5 (gone while it was read).
func checkTarget(f *raceFailures, gone *atomic.Int64, tg *target, cmd string, r result, anchorIDs map[string]uint64) {
	what := fmt.Sprintf("%s %d", cmd, tg.pid)
	if bad := crashOrLines(r); bad != "" {
		f.add("%s: %s", what, bad)
		return
	}
	switch r.code {
	case 5:
		// A task that exited while it was read: nsinspect could not find
		// out, and says the task exited.
		if !strings.Contains(r.stderr, "exited") {
			f.add("%s: exit 5 that is not 'exited mid-read': %q", what, r.stderr)
		}
		gone.Add(1)
		return
	case 2:
		// Gone before it was pinned: no such task.
		if !strings.Contains(r.stderr, "no process with PID") && !strings.Contains(r.stderr, "no thread") {
			f.add("%s: exit 2 that is not 'no such task': %q", what, r.stderr)
		}
		gone.Add(1)
		return
	case 0:
	default:
		f.add("%s: exit %d: %q", what, r.code, r.stderr)
		return
	}
	var mis string
	switch cmd {
	case "show":
		var s showOut
		if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
			f.add("%s: %v", what, err)
			return
		}
		if s.PID != tg.pid || (s.Comm != "sh" && s.Comm != "sleep") {
			mis = fmt.Sprintf("pid %d comm %q", s.PID, s.Comm)
		}
		for _, n := range s.NS {
			want := map[string]uint64{"uts": tg.uts, "ipc": tg.ipc}[n.Link]
			if want != 0 && n.Error == "" && ident(n.ID, n.Inode) != want {
				mis += fmt.Sprintf(" ns/%s id %d, want %d", n.Link, ident(n.ID, n.Inode), want)
			}
			if n.Error != "" && !s.Zombie {
				f.add("%s: ns/%s unreadable but not a zombie: %q", what, n.Link, n.Error)
			}
		}
	case "compare":
		var c compareJSON
		if err := json.Unmarshal([]byte(r.stdout), &c); err != nil {
			f.add("%s: %v", what, err)
			return
		}
		if c.A.PID != tg.pid {
			mis = fmt.Sprintf("a.pid %d", c.A.PID)
		}
		for _, res := range c.Resources {
			want := map[string]uint64{"uts": tg.uts, "ipc": tg.ipc}[res.Name]
			if want == 0 {
				continue
			}
			var ev struct {
				A, B *struct {
					ID  uint64 `json:"id"`
					Ino uint64 `json:"ns"`
				}
			}
			json.Unmarshal(res.Evidence, &ev)
			if ev.A != nil && ident(ev.A.ID, ev.A.Ino) != want {
				mis += fmt.Sprintf(" %s: a id %d, want %d", res.Name, ident(ev.A.ID, ev.A.Ino), want)
			}
			if ev.B != nil && ident(ev.B.ID, ev.B.Ino) != anchorIDs[res.Name] {
				mis += fmt.Sprintf(" %s: b id %d, want the anchor's %d", res.Name, ident(ev.B.ID, ev.B.Ino), anchorIDs[res.Name])
			}
			if res.Shared != nil && *res.Shared {
				mis += " " + res.Name + " shared with the anchor"
			}
		}
	case "fds":
		var d struct{ PID int }
		if err := json.Unmarshal([]byte(r.stdout), &d); err != nil || d.PID != tg.pid {
			mis = fmt.Sprintf("pid %d, %v", d.PID, err)
		}
	}
	if mis != "" {
		if tg.reaped.Load() {
			if _, err := os.Stat("/proc/" + strconv.Itoa(tg.pid)); err == nil {
				// The pid was freed and is in use again: the run may
				// rightly have read the new process.
				return
			}
		}
		f.add("%s: another process's data: %s", what, mis)
	}
}

// checkHostWide judges an ls or nsproxy run: exit 0, JSON, and the
// anchor (alive throughout) listed with its own uts namespace.
func checkHostWide(f *raceFailures, anchor int, anchorIDs map[string]uint64, cmd string, r result) {
	if r.code != 0 {
		f.add("%s: exit %d: %q", cmd, r.code, r.stderr)
		return
	}
	if strings.Contains(r.stderr, "goroutine") || strings.Contains(r.stderr, "panic") {
		f.add("%s: crash output %q", cmd, r.stderr)
	}
	found := false
	switch cmd {
	case "ls":
		var l struct {
			Namespaces []struct {
				Type   string `json:"type"`
				ID     uint64 `json:"id"`
				NS     uint64 `json:"ns"`
				NProcs int    `json:"nprocs"`
			} `json:"namespaces"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &l); err != nil {
			f.add("ls: %v", err)
			return
		}
		for _, n := range l.Namespaces {
			found = found || (n.Type == "uts" && ident(n.ID, n.NS) == anchorIDs["uts"] && n.NProcs >= 1)
		}
	case "nsproxy":
		var p struct {
			Sets []struct {
				Namespaces []struct {
					Link string `json:"link"`
					NS   struct {
						ID  uint64 `json:"id"`
						Ino uint64 `json:"ns"`
					} `json:"namespace"`
				} `json:"namespaces"`
				Tasks []struct {
					PID int `json:"pid"`
				} `json:"tasks"`
			} `json:"sets"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
			f.add("nsproxy: %v", err)
			return
		}
		for _, s := range p.Sets {
			for _, task := range s.Tasks {
				if task.PID != anchor {
					continue
				}
				for _, n := range s.Namespaces {
					if want, ok := anchorIDs[n.Link]; ok && ident(n.NS.ID, n.NS.Ino) != want {
						f.add("nsproxy: anchor %d in a set with %s id %d, want %d", anchor, n.Link, ident(n.NS.ID, n.NS.Ino), want)
					}
				}
				found = true
			}
		}
	}
	if !found {
		f.add("%s: the anchor %d (uts id %d) is missing", cmd, anchor, anchorIDs["uts"])
	}
}

// crashOrLines says what is wrong with stderr: crash output, or an error
// that is not one line.
func crashOrLines(r result) string {
	if strings.Contains(r.stderr, "goroutine") || strings.Contains(r.stderr, "panic") {
		return "crash output " + strconv.Quote(r.stderr)
	}
	if r.code != 0 && strings.Count(r.stderr, "\n") != 1 {
		return "error is not one line: " + strconv.Quote(r.stderr)
	}
	return ""
}
