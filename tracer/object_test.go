package tracer

import (
	"bytes"
	"testing"

	"github.com/nsinspect/nsinspect/bpfload"
)

// The embedded compressed object is the one bpf2go generated the Go code
// beside it with (go generate makes both; bpf-check compares them with a
// fresh build).
func TestCompressedObject(t *testing.T) {
	b, err := bpfload.Inflate(traceObject)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, _TraceBytes) {
		t.Fatalf("trace_bpfel.o.gz inflates to %d bytes that are not trace_bpfel.o's %d: run go generate ./tracer", len(b), len(_TraceBytes))
	}
}
