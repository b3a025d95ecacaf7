package bpfiter

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"
)

// The embedded compressed objects are the ones bpf2go generated the Go
// code beside them with (go generate makes both; bpf-check compares them
// with a fresh build).
func TestCompressedObjects(t *testing.T) {
	for _, o := range []struct {
		name    string
		gz, raw []byte
	}{{"tasks_bpfel.o", tasksObject, _TasksBytes}, {"fdwalk_bpfel.o", fdwalkObject, _FdwalkBytes}} {
		r, err := gzip.NewReader(bytes.NewReader(o.gz))
		if err != nil {
			t.Fatalf("%s.gz: %v", o.name, err)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("%s.gz: %v", o.name, err)
		}
		if !bytes.Equal(b, o.raw) {
			t.Errorf("%s.gz inflates to %d bytes that are not %s's %d: run go generate ./bpfiter", o.name, len(b), o.name, len(o.raw))
		}
	}
}
