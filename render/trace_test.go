package render

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/internal/golden"
)

// traceFixture reads testdata/fixtures/trace-events.jsonl: the --json
// lines of real runs on 6.18 (unshare -n -f true; nsenter -n into a net
// namespace, and into it with a uts namespace's file; a Python thread).
func traceFixture(t *testing.T) []*inspect.TraceEvent {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fixtures", "trace-events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var out []*inspect.TraceEvent
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		e := &inspect.TraceEvent{}
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(e); err != nil {
			t.Fatalf("%v in %s", err, sc.Bytes())
		}
		out = append(out, e)
	}
	if len(out) < 6 {
		t.Fatalf("%d fixture events, want 6", len(out))
	}
	return out
}

func TestGoldenTrace(t *testing.T) {
	var text, js bytes.Buffer
	for _, e := range traceFixture(t) {
		if err := Trace(&text, e); err != nil {
			t.Fatal(err)
		}
		if err := TraceJSON(&js, e); err != nil {
			t.Fatal(err)
		}
	}
	golden.Check(t, "trace-events.txt", text.Bytes())
	// The JSON lines survive a decode and an encode unchanged: the types
	// hold every key the tracer prints.
	want, _ := os.ReadFile(filepath.Join("testdata", "fixtures", "trace-events.jsonl"))
	if !bytes.Equal(js.Bytes(), want) {
		t.Errorf("JSON lines changed by a round trip:\n%s\nwant\n%s", js.Bytes(), want)
	}
}
