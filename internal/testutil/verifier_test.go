package testutil

import "testing"

func TestVerifiedInsns(t *testing.T) {
	for _, c := range []struct {
		log  string
		want int
		ok   bool
	}{
		// 6.18
		{"verification time 3389 usec\nstack depth 96+56+0+0+0+64+48\nprocessed 2953 insns (limit 1000000) max_states_per_insn 3 total_states 165 peak_states 165 mark_read 0\n", 2953, true},
		// 5.10: no time line before it
		{"processed 34708 insns (limit 1000000) max_states_per_insn 15 total_states 727 peak_states 306 mark_read 12\n", 34708, true},
		{"", 0, false},
		{"verification time 12 usec\n", 0, false},
	} {
		n, ok := VerifiedInsns(c.log)
		if n != c.want || ok != c.ok {
			t.Errorf("VerifiedInsns(%q) = %d, %v; want %d, %v", c.log, n, ok, c.want, c.ok)
		}
	}
}
