// Package golden compares a renderer's output with a file under
// testdata/golden, for the golden tests of render and cmd/nsinspect.
// They need no root and no kernel. After a deliberate change of output,
// run the package's golden tests with -update, e.g.
//
//	go test ./render -run Golden -update
//
// and read the diff of testdata/golden before committing it.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the renderers' output")

// Check compares got with testdata/golden/NAME, or, with -update,
// writes it there.
func Check(t testing.TB, name string, got []byte) {
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
