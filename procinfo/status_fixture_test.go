package procinfo

import (
	"fmt"
	"testing"
)

// Status and stat of kthreadd and of a zombie, captured on this machine.
func TestStatusFixtures(t *testing.T) {
	for _, tt := range []struct {
		file     string
		name     string
		state    string
		ppid     int
		kthread  bool
		sigIgn   string
		cpus     string
		statFlag bool // stat's PF_KTHREAD
	}{
		{"kthreadd", "kthreadd", "S (sleeping)", 0, true, "ffffffffffffffff", "0-1", true},
		{"zombie", "sh", "Z (zombie)", 7247, false, "0000000000000006", "0-1", false},
	} {
		s := parseFixture(t, "status/"+tt.file, ParseStatus)
		if s.Name != tt.name || s.State != tt.state || s.PPid != tt.ppid || s.Kthread != tt.kthread || s.CpusAllowedList != tt.cpus {
			t.Errorf("%s: got %+v", tt.file, s)
		}
		if got := fmt.Sprintf("%016x", s.SigIgn); got != tt.sigIgn {
			t.Errorf("%s: SigIgn %s, want %s", tt.file, got, tt.sigIgn)
		}
		st, err := ParseStat(string(fixture(t, "status/"+tt.file+".stat")))
		if err != nil {
			t.Fatalf("%s.stat: %v", tt.file, err)
		}
		if st.IsKthread() != tt.statFlag || string(st.State) != tt.state[:1] || st.Comm != tt.name {
			t.Errorf("%s.stat: got %+v", tt.file, st)
		}
	}
}
