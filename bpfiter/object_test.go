package bpfiter

import (
	"bytes"
	"testing"

	"github.com/nsinspect/nsinspect/bpfload"
)

// The embedded compressed objects are the ones bpf2go generated the Go
// code beside them with (go generate makes both; bpf-check compares them
// with a fresh build).
func TestCompressedObjects(t *testing.T) {
	for name, o := range map[string][2][]byte{"tasks_bpfel.o": {tasksObject, _TasksBytes}, "fdwalk_bpfel.o": {fdwalkObject, _FdwalkBytes}} {
		b, err := bpfload.Inflate(o[0])
		if err != nil {
			t.Fatalf("%s.gz: %v", name, err)
		}
		if !bytes.Equal(b, o[1]) {
			t.Errorf("%s.gz inflates to %d bytes that are not %s's %d: run go generate ./bpfiter", name, len(b), name, len(o[1]))
		}
	}
}
