package procinfo

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

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
