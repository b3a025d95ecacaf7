package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// The golden tests of what cmd still renders itself (struct): each
// renders a fixture, built by hand, and compares the bytes with
// testdata/golden/NAME; the renderers of package render have theirs beside
// them. They need no root and no kernel. After a deliberate change of output, run
//
//	go test ./cmd/nsinspect -run Golden -update
//
// and read the diff of testdata/golden before committing it.
var update = flag.Bool("update", false, "rewrite testdata/golden from the renderers' output")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the renderer's output (rerun with -update if the change is meant):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
