package procinfo

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// statusSeeds returns the captured status (or, with suffix ".stat", stat)
// files under testdata/status.
func statusSeeds(f *testing.F, stat bool) [][]byte {
	files, err := filepath.Glob("testdata/status/*")
	if err != nil {
		f.Fatal(err)
	}
	var seeds [][]byte
	for _, name := range files {
		if strings.HasSuffix(name, ".stat") != stat {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	if len(seeds) == 0 {
		f.Fatal("no seeds in testdata/status")
	}
	return seeds
}

// FuzzParseStatus: any bytes give a Status or an ErrParse, never a panic.
func FuzzParseStatus(f *testing.F) {
	for _, b := range statusSeeds(f, false) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := ParseStatus(strings.NewReader(string(b))); err != nil && !errors.Is(err, ErrParse) {
			t.Fatalf("error that is not ErrParse: %v", err)
		}
	})
}

// FuzzParseStat: any line gives a Stat whose comm is what lies between the
// first '(' and the last ')', or an ErrParse; never a panic.
func FuzzParseStat(f *testing.F) {
	for _, b := range statusSeeds(f, true) {
		f.Add(string(b))
	}
	f.Add("1 () S")
	f.Add(")(")
	f.Fuzz(func(t *testing.T, line string) {
		s, err := ParseStat(line)
		if err != nil {
			if !errors.Is(err, ErrParse) {
				t.Fatalf("error that is not ErrParse: %v", err)
			}
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
	b, err := os.ReadFile("testdata/status/oddcomm.stat")
	if err != nil {
		t.Fatal(err)
	}
	st, err := ParseStat(string(b))
	if err != nil || st.Comm != "a) b (c" || st.State != 'S' || st.PPID != 26813 || st.NumThread != 1 {
		t.Errorf("oddcomm.stat: %+v, %v", st, err)
	}
	b, err = os.ReadFile("testdata/status/oddcomm")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseStatus(strings.NewReader(string(b)))
	if err != nil || s.Name != "a) b (c" || s.PPid != 26813 {
		t.Errorf("oddcomm status: %+v, %v", s, err)
	}
}
