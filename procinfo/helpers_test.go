package procinfo

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixture returns the bytes of testdata/<name>, a captured /proc file.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// parseFixture parses testdata/<name> with parse: a fixture is real
// kernel output, so one that does not parse fails the test.
func parseFixture[T any](t testing.TB, name string, parse func(io.Reader) (T, error)) T {
	t.Helper()
	v, err := parse(bytes.NewReader(fixture(t, name)))
	if err != nil {
		t.Fatalf("testdata/%s: %v", name, err)
	}
	return v
}

// wantErrParse checks that parse (called name in messages) refuses each
// input with an error that matches ErrParse.
func wantErrParse[T any](t *testing.T, name string, parse func(io.Reader) (T, error), inputs ...string) {
	t.Helper()
	for _, in := range inputs {
		if _, err := parse(strings.NewReader(in)); !errors.Is(err, ErrParse) {
			t.Errorf("%s(%q) = %v, want ErrParse", name, in, err)
		}
	}
}

// fuzzParser fuzzes parse, seeded with the fixtures matching
// testdata/<seeds>: every input is parsed or refused with ErrParse, and
// what parses is given to check.
func fuzzParser[T any](f *testing.F, seeds string, parse func(io.Reader) (T, error), check func(t *testing.T, in string, v T)) {
	seedFiles(f, seeds)
	f.Fuzz(func(t *testing.T, in string) {
		v, err := parse(strings.NewReader(in))
		if refused(t, err) {
			return
		}
		check(t, in, v)
	})
}

// seedFiles adds every file under testdata matching pattern as a fuzz seed;
// a pattern that matches nothing is an error, not an unseeded fuzzer.
func seedFiles(f *testing.F, pattern string) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(files) == 0 {
		f.Fatalf("no fuzz seeds match testdata/%s", pattern)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
}

// refused reports whether a parser rejected its input, and fails the test
// when the rejection does not match ErrParse.
func refused(t *testing.T, err error) bool {
	t.Helper()
	if err == nil {
		return false
	}
	if !errors.Is(err, ErrParse) {
		t.Fatalf("error %v does not match ErrParse", err)
	}
	return true
}
