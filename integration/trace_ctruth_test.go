package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/clone/flags"
	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/internal/testutil"
)

// cTruth is one line of testdata/clonetruth.c's output.
type cTruth struct {
	Scenario   string            `json:"scenario"`
	Flags      string            `json:"flags"`
	Parent     int               `json:"parent"`
	Child      int               `json:"child"`
	Errno      int               `json:"errno"`
	Skipped    string            `json:"skipped"`
	Unresolved string            `json:"unresolved"`
	Verdicts   map[string]string `json:"verdicts"`
}

// cTruthBinary is testdata/clonetruth.c built: $NSINSPECT_CLONETRUTH (the
// kernel matrix builds it static per architecture), or built here by gcc.
func cTruthBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("NSINSPECT_CLONETRUTH"); p != "" {
		return p
	}
	testutil.RequireCommand(t, "gcc", "gcc")
	bin := filepath.Join(t.TempDir(), "clonetruth")
	testutil.MustRun(t, testutil.Command(t, testutil.Quick, "gcc", "-O2", "-Wall", "-Werror", "-o", bin, "testdata/clonetruth.c"))
	return bin
}

// cTruthScenarios are clonetruth.c's: what the caller does before its
// clone, so that the flags alone do not decide every row (newpid and
// newtime: *_for_children is not the caller's own; setns: the caller
// entered another network namespace; ioctx and semundo: the caller has an
// io_context or a SysV undo list).
var cTruthScenarios = []string{"plain", "newpid", "newtime", "setns", "ioctx", "semundo"}

// Truth against a C program that answers for itself: under one trace,
// testdata/clonetruth.c makes a clone per line of a plan (in plain: every
// flag set of the default matrix, and random sets; in each other
// scenario every single flag and random sets, of the flags matrix knows
// but CLONE_INTO_CGROUP), each from a fresh caller, and a third process
// of its compares each child with its caller by /proc/PID/ns and kcmp(2)
// while both live. Every child is exactly one fork event, by that caller,
// whose 16 verdicts are the program's; a caller whose clone the kernel
// refused is the caller of exactly one fork event too, without a child,
// with the program's errno and flags.
func TestTraceAgreesWithCTruth(t *testing.T) {
	requireTracer(t)
	prog := cTruthBinary(t)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	var known []flags.Flag
	for _, f := range flags.Known {
		if f.Value != unix.CLONE_INTO_CGROUP {
			known = append(known, f)
		}
	}
	random := func() uint64 {
		var v uint64
		for _, f := range known {
			if rng.IntN(4) == 0 {
				v |= f.Value
			}
		}
		return v
	}
	var plan strings.Builder
	for _, s := range flags.DefaultMatrix() {
		fmt.Fprintf(&plan, "plain %#x\n", uint64(s))
	}
	for _, sc := range cTruthScenarios {
		if sc != "plain" {
			fmt.Fprintf(&plan, "%s 0x0\n", sc)
			for _, f := range known {
				fmt.Fprintf(&plan, "%s %#x\n", sc, f.Value)
			}
		}
		for range 40 {
			fmt.Fprintf(&plan, "%s %#x\n", sc, random())
		}
	}
	lines := strings.Count(plan.String(), "\n")
	planFile := filepath.Join(t.TempDir(), "plan")
	if err := os.WriteFile(planFile, []byte(plan.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	events := filepath.Join(t.TempDir(), "events.jsonl")
	// The events go to a file; stdout is clonetruth's (not trace's JSON).
	stdout, err := testutil.Output(testutil.Command(t, testutil.Quick, binary, "trace", "--json", "-o", events, "--", prog, planFile))
	if err != nil {
		t.Fatalf("trace -- clonetruth: %v", err)
	}
	b, err := os.ReadFile(events)
	if err != nil {
		t.Fatal(err)
	}
	evs := traceEvents(t, string(b))
	if end := evs[len(evs)-1]; end.Lost != 0 {
		t.Fatalf("the trace lost %d events", end.Lost)
	}
	forks := map[int][]*inspect.TraceEvent{}    // by child tid
	byCaller := map[int][]*inspect.TraceEvent{} // by caller tid
	for _, e := range eventsOf(evs, "fork") {
		if e.Child != nil {
			forks[e.Child.TID] = append(forks[e.Child.TID], e)
		}
		byCaller[e.Caller.TID] = append(byCaller[e.Caller.TID], e)
	}
	var truths []cTruth
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var c cTruth
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("clonetruth printed %q: %v", sc.Bytes(), err)
		}
		truths = append(truths, c)
	}
	if len(truths) != lines {
		t.Fatalf("clonetruth answered %d of %d plan lines (seed %d)", len(truths), lines, seed)
	}
	count := map[string]int{}
	// An event may be missing only where the end line's "missed" says
	// the kernel skipped the programs, at most that many.
	end, unseen := evs[len(evs)-1], uint64(0)
	for _, c := range truths {
		what := fmt.Sprintf("%s %s (%s)", c.Scenario, c.Flags, flagNames(c.Flags))
		switch {
		case c.Skipped != "":
			count["skipped"]++
			continue
		case c.Unresolved != "":
			t.Errorf("%s: clonetruth could not find the child: %s", what, c.Unresolved)
			continue
		case c.Errno != 0:
			count["refused"]++
			evs := byCaller[c.Parent]
			if len(evs) == 0 && unseen < end.Missed {
				unseen++
				count["unseen"]++
				continue
			}
			if len(evs) != 1 {
				t.Errorf("%s: the kernel refused it (%v); the trace shows %d fork events by its caller %d, want 1", what, unix.Errno(c.Errno), len(evs), c.Parent)
				continue
			}
			e := evs[0]
			var want uint64
			fmt.Sscanf(c.Flags, "0x%x", &want)
			// clonetruth makes a CLONE_VM set by clone(2), adding
			// CLONE_CHILD_CLEARTID to a thread's; any other by clone3.
			call := "clone3"
			if want&unix.CLONE_VM != 0 {
				call = "clone"
				if want&unix.CLONE_THREAD != 0 {
					want |= unix.CLONE_CHILD_CLEARTID
				}
			}
			switch {
			case e.Child != nil:
				t.Errorf("%s: refused (%v), yet the trace shows a child %+v", what, unix.Errno(c.Errno), e.Child)
			case e.Errno != flags.ErrnoName(unix.Errno(c.Errno)):
				t.Errorf("%s: the trace's errno %q, clonetruth's %v", what, e.Errno, unix.Errno(c.Errno))
			case e.Value == nil || *e.Value != want:
				t.Errorf("%s: the trace's flags %v, clonetruth passed %#x", what, e.Flags, want)
			case e.Syscall != call:
				t.Errorf("%s: the trace names the call %q, clonetruth made %s", what, e.Syscall, call)
			}
			continue
		}
		count["clones"]++
		got := forks[c.Child]
		if len(got) == 0 && unseen < end.Missed {
			unseen++
			count["unseen"]++
			continue
		}
		if len(got) != 1 {
			t.Errorf("%s: %d fork events of child %d, want 1", what, len(got), c.Child)
			continue
		}
		e := got[0]
		if e.Caller.TID != c.Parent {
			t.Errorf("%s: the fork of %d by %d, clonetruth's caller is %d", what, c.Child, e.Caller.TID, c.Parent)
		}
		if len(byCaller[c.Parent]) != 1 {
			t.Errorf("%s: %d fork events by caller %d, want 1", what, len(byCaller[c.Parent]), c.Parent)
		}
		if len(c.Verdicts) != 16 {
			t.Errorf("%s: clonetruth gave %d verdicts, want 16", what, len(c.Verdicts))
		}
		for name, want := range c.Verdicts {
			row := name
			if name == "vm" {
				row = "mm"
			}
			count[want]++
			if got := e.Shared(row); got != want {
				t.Errorf("%s: %s: trace %q, clonetruth %q", what, name, got, want)
			}
		}
	}
	if count["clones"] == 0 {
		t.Fatal("clonetruth made no clone")
	}
	t.Logf("seed %d: %d plan lines: %v (the end line: %d missed)", seed, lines, count, end.Missed)
}

// flagNames names a hex flag set.
func flagNames(hex string) string {
	var v uint64
	fmt.Sscanf(hex, "0x%x", &v)
	return flags.Set(v).String()
}
