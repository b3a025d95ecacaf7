package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nsinspect/nsinspect/clone/flags"
	"github.com/nsinspect/nsinspect/clone/report"
	"github.com/nsinspect/nsinspect/inspect"
)

// Two witnesses of one clone agree: `trace -- nsinspect clone --json
// FLAGS`, for every flag set of the default matrix in one trace (a shell
// runs the experiments one after another, each report to a file). Each
// experiment's clone is one fork event, caller the report's parent and
// child the report's child, and its sharing table says what the report
// says for each of the 16 resources: the trace reads the kernel's
// objects as copy_process() leaves them, the experiment compares the
// parked child with its parent by /proc links and kcmp(2) afterwards.
// The trace's mm is the report's vm; "neither" is the report's
// undecided io or sysvsem with neither task holding one (kcmp calls two
// NULLs equal). A set the kernel refuses has an errno and no child, and
// one failed fork event with those flags and that errno. An event may be
// missing only where the end line's "missed" says the kernel skipped the
// programs (seen on 7.3 under QEMU), at most that many.
func TestTraceAgreesWithCloneExperiments(t *testing.T) {
	requireTracer(t)
	dir := t.TempDir()
	sets := flags.DefaultMatrix()
	var script strings.Builder
	for i, s := range sets {
		fmt.Fprintf(&script, "%s clone --json %s > %s/%d.json 2> %s/%d.err\n", binary, strings.Join(s.Names(), ","), dir, i, dir, i)
	}
	scriptFile := filepath.Join(dir, "run.sh")
	if err := os.WriteFile(scriptFile, []byte(script.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	r := nsinspect(t, "trace", "--json", "--", "sh", scriptFile)
	if r.code != 0 {
		t.Fatalf("trace exit %d: %s", r.code, lastLine(r.stderr))
	}
	evs := traceEvents(t, r.stdout)
	if end := evs[len(evs)-1]; end.Lost != 0 {
		t.Fatalf("the trace lost %d events", end.Lost)
	}
	forks := map[int][]*inspect.TraceEvent{}     // by child tid
	failed := map[uint64][]*inspect.TraceEvent{} // refused, by flags
	byCaller := map[int]int{}
	for _, e := range evs {
		switch {
		case e.Event == "fork" && e.Child != nil:
			forks[e.Child.TID] = append(forks[e.Child.TID], e)
			byCaller[e.Caller.TID]++
		case e.Event == "fork" && e.Value != nil:
			failed[*e.Value] = append(failed[*e.Value], e)
		}
	}
	ran, refused := 0, 0
	end, unseen := evs[len(evs)-1], uint64(0)
	verdicts := map[string]int{}
	for i, s := range sets {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%d.json", i)))
		if err != nil {
			t.Fatal(err)
		}
		var rep report.Clone
		if err := json.Unmarshal(b, &rep); err != nil {
			errText, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%d.err", i)))
			t.Fatalf("%s: clone --json: %v; stderr: %s", s, err, lastLine(string(errText)))
		}
		if rep.Errno != nil {
			refused++
			if rep.Child != nil {
				t.Errorf("%s: refused (%s) and yet a child %d", s, *rep.Errno, rep.Child.PID)
			}
			// A refused experiment's report names no parent: its
			// failed fork is the one with its flags (the sets are
			// distinct, run one after another).
			got := failed[uint64(s)]
			if len(got) == 0 && unseen < end.Missed {
				unseen++
				t.Logf("%s: refused, no failed fork event; the end line says the kernel skipped the programs %d times", s, end.Missed)
				continue
			}
			if len(got) != 1 || got[0].Errno != *rep.Errno {
				t.Errorf("%s: refused (%s) by the kernel; the trace shows %d failed forks with these flags: %s", s, *rep.Errno, len(got), eventsText(got))
			}
			continue
		}
		ran++
		if rep.Parent == nil || rep.Child == nil {
			t.Errorf("%s: a report without parent or child", s)
			continue
		}
		evsOf := forks[rep.Child.TID]
		if len(evsOf) == 0 && unseen < end.Missed {
			// The trace said the kernel skipped its programs: an event
			// it says may be missing is not one it hid.
			unseen++
			t.Logf("%s: no fork event of child %d; the end line says the kernel skipped the programs %d times", s, rep.Child.TID, end.Missed)
			continue
		}
		if len(evsOf) != 1 {
			t.Errorf("%s: %d fork events of child %d, want 1 (the end line: %d lost, %d missed)", s, len(evsOf), rep.Child.TID, end.Lost, end.Missed)
			continue
		}
		e := evsOf[0]
		if e.Caller.TID != rep.Parent.TID {
			t.Errorf("%s: fork of %d by %d, the report's parent is %d", s, rep.Child.TID, e.Caller.TID, rep.Parent.TID)
		}
		for _, res := range rep.Resources {
			name := res.Name
			if name == "vm" {
				name = "mm"
			}
			want := witnessVerdict(res)
			verdicts[want]++
			if got := e.Shared(name); got != want {
				t.Errorf("%s: %s: trace %q, the experiment %q (%s)", s, res.Name, got, want, res.Note)
			}
		}
	}
	if ran == 0 {
		t.Fatal("no experiment of the default matrix made a child")
	}
	t.Logf("%d flag sets: %d clones, each one fork event, %d refused by the kernel; verdicts compared: %v", len(sets), ran, refused, verdicts)
}

// eventsText is events as their JSON, for a failure's message.
func eventsText(evs []*inspect.TraceEvent) string {
	var b strings.Builder
	for _, e := range evs {
		j, _ := json.Marshal(e)
		b.Write(j)
		b.WriteByte(' ')
	}
	return b.String()
}

// witnessVerdict is what the trace's sharing table must say for one of a
// clone report's resources.
func witnessVerdict(res report.Resource) string {
	switch {
	case res.Shared == nil && res.Evidence.ANull != nil && res.Evidence.BNull != nil && *res.Evidence.ANull && *res.Evidence.BNull:
		return "neither"
	case res.Shared == nil:
		return "undecided"
	case *res.Shared:
		return "same"
	}
	return "different"
}
