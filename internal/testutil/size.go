package testutil

import (
	"os"
	"strconv"
	"testing"
)

// Size is the size of a long test: def by default (the CI size), or the
// value of the environment variable name (the full size, documented beside
// each test), which must be a whole number of at least min.
func Size(t testing.TB, name string, def, min int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < min {
		t.Fatalf("%s=%q: want a whole number of at least %d", name, s, min)
	}
	return n
}
