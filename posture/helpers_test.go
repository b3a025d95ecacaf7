package posture

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// fixture returns testdata/<name>, a captured /proc file (see
// testdata/capture.sh).
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mountFixture(t testing.TB, name string) []MountLine {
	t.Helper()
	m, err := ParseMountInfo(fixture(t, "mountinfo/"+name))
	if err != nil {
		t.Fatalf("testdata/mountinfo/%s: %v", name, err)
	}
	return m
}

// lineOf returns the 1-based number of the line of testdata/<name> that
// is text, so that expected evidence is checked against the file itself.
func lineOf(t testing.TB, name, text string) int {
	t.Helper()
	for i, l := range splitLines(fixture(t, name)) {
		if l == text {
			return i + 1
		}
	}
	t.Fatalf("testdata/%s has no line %q", name, text)
	return 0
}

func splitLines(b []byte) []string {
	var out []string
	start := 0
	for i, c := range b {
		if c == '\n' {
			out = append(out, string(b[start:i]))
			start = i + 1
		}
	}
	if start < len(b) {
		out = append(out, string(b[start:]))
	}
	return out
}

func sameStrings(a, b []string) bool { return slices.Equal(a, b) }
