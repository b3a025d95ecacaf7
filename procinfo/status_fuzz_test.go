package procinfo

import (
	"strings"
	"testing"
)

// FuzzParseStatus: any text gives a Status or an ErrParse, never a panic.
// (The stat lines among the seeds are text that is not a status file.)
func FuzzParseStatus(f *testing.F) {
	fuzzParser(f, "status/*", ParseStatus, func(*testing.T, string, Status) {})
}

// FuzzParseStat: any line gives a Stat whose comm is what lies between the
// first '(' and the last ')', or an ErrParse; never a panic.
func FuzzParseStat(f *testing.F) {
	seedFiles(f, "status/*.stat")
	f.Add("1 () S")
	f.Add(")(")
	f.Fuzz(func(t *testing.T, line string) {
		s, err := ParseStat(line)
		if refused(t, err) {
			return
		}
		if !strings.Contains(line, "("+s.Comm+")") {
			t.Fatalf("comm %q is not between the parentheses of %q", s.Comm, line)
		}
	})
}

// A comm with spaces and both parentheses, captured from a process whose
// executable is named "a) b (c".
func TestStatOddComm(t *testing.T) {
	st, err := ParseStat(string(fixture(t, "status/oddcomm.stat")))
	if err != nil || st.Comm != "a) b (c" || st.State != 'S' || st.PPID != 26813 || st.NumThread != 1 {
		t.Errorf("oddcomm.stat: %+v, %v", st, err)
	}
	if s := parseFixture(t, "status/oddcomm", ParseStatus); s.Name != "a) b (c" || s.PPid != 26813 {
		t.Errorf("oddcomm status: %+v", s)
	}
}
