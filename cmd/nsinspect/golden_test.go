package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/nsinspect/nsinspect/clone/report"
)

// The renderers' golden tests: each renders a fixture report, built by
// hand, and compares the bytes with testdata/golden/NAME. They need no
// root and no kernel. After a deliberate change of output, run
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

// The experiment and compare renderers over fixture reports: JSON that
// nsinspect printed for real experiments (clone newnet,files; the refused
// clone sighand; unshare net; compare of a sleep with one in new net and
// uts namespaces), decoded, rendered as the table golden file, and encoded
// again, which must give the fixture back byte for byte.
func TestGoldenReports(t *testing.T) {
	for _, c := range []struct {
		fixture string
		decode  func([]byte) (any, error)
		render  func(io.Writer, any) error
	}{
		{"clone-newnet-files", decodeAs[report.Clone], func(w io.Writer, v any) error { renderClone(w, v.(*report.Clone)); return nil }},
		{"clone-sighand-refused", decodeAs[report.Clone], func(w io.Writer, v any) error { renderClone(w, v.(*report.Clone)); return nil }},
		{"unshare-net", decodeAs[report.Unshare], func(w io.Writer, v any) error { renderUnshare(w, v.(*report.Unshare)); return nil }},
	} {
		in, err := os.ReadFile(filepath.Join("testdata", "fixtures", c.fixture+".json"))
		if err != nil {
			t.Fatal(err)
		}
		v, err := c.decode(in)
		if err != nil {
			t.Fatalf("%s: %v", c.fixture, err)
		}
		var js, table bytes.Buffer
		if err := writeJSON(&js, v); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(js.Bytes(), in) {
			t.Errorf("%s: the JSON renderer does not give the fixture back:\n%s", c.fixture, js.Bytes())
		}
		if err := c.render(&table, v); err != nil {
			t.Fatal(err)
		}
		golden(t, c.fixture+".txt", table.Bytes())
	}
}

func decodeAs[T any](b []byte) (any, error) {
	v := new(T)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return v, dec.Decode(v)
}
