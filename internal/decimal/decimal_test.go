package decimal

import (
	"testing"
)

// Directory entry names: pids, tids and fd numbers as the kernel prints
// them, and nothing else.
func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true}, {"1", 1, true}, {"4242", 4242, true},
		{"18446744073709551615", 1<<64 - 1, true}, {"18446744073709551616", 0, false},
		{"", 0, false}, {"01", 0, false}, {"-1", 0, false}, {"+1", 0, false},
		{"self", 0, false}, {"12a", 0, false}, {"thread-self", 0, false},
	} {
		if got, ok := Parse([]byte(c.in)); got != c.want || ok != c.ok {
			t.Errorf("Parse(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
	if n, ok := Parse("4026531840"); !ok || n != 4026531840 {
		t.Errorf("Parse on a string: %d, %v", n, ok)
	}
}
