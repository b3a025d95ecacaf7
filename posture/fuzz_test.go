package posture

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func seed(f *testing.F, glob string) {
	files, err := filepath.Glob(filepath.Join("testdata", glob))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds for %s: %v", glob, err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzParseStatus: any text parses or is refused with ErrParse; what
// parses has evidence that is a line of the text at its number.
func FuzzParseStatus(f *testing.F) {
	seed(f, "status/*")
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseStatus(b)
		if err != nil {
			if !errors.Is(err, ErrParse) {
				t.Fatalf("error %v does not match ErrParse", err)
			}
			return
		}
		lines := strings.Split(string(b), "\n")
		c, sc, n := s.Capabilities("f"), s.SeccompMode("f"), s.NoNewPrivsFlag("f")
		for _, e := range append(append(c.Evidence, sc.Evidence...), n.Evidence...) {
			if e.Line < 1 || e.Line > len(lines) || !strings.HasPrefix(lines[e.Line-1], strings.TrimRight(e.Text, "\r")) {
				t.Fatalf("evidence %+v is not line %d of the text", e, e.Line)
			}
		}
		if len(c.Effective) > 64 || sc.Filters < -1 {
			t.Fatalf("capabilities %v, seccomp %+v", c, sc)
		}
	})
}

// FuzzMountAnalysis: any mountinfo text parses or is refused with
// ErrParse; what parses, analysed against itself as the reference and
// against none, gives paths that are mount points of the text, with
// evidence that is their line.
func FuzzMountAnalysis(f *testing.F) {
	seed(f, "mountinfo/*")
	host, err := os.ReadFile("testdata/mountinfo/host-init")
	if err != nil {
		f.Fatal(err)
	}
	ref, err := ParseMountInfo(host)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		mounts, err := ParseMountInfo(b)
		if err != nil {
			if !errors.Is(err, ErrParse) {
				t.Fatalf("error %v does not match ErrParse", err)
			}
			return
		}
		at := map[string]map[int]bool{}
		for _, m := range mounts {
			if at[m.MountPoint] == nil {
				at[m.MountPoint] = map[int]bool{}
			}
			at[m.MountPoint][m.Line] = true
		}
		check := func(path string, e Evidence) {
			if !at[path][e.Line] || mounts[e.Line-1].Text != e.Text {
				t.Fatalf("%q with evidence %+v is not a mount of the text", path, e)
			}
		}
		for _, l := range []PathList{FindMasked(mounts, "f"), FindReadonly(mounts, "f")} {
			for _, p := range l.Paths {
				check(p.Path, p.Evidence)
			}
		}
		for _, r := range [][]MountLine{nil, ref, mounts} {
			for _, m := range FindSensitive(mounts, r, "f").Mounts {
				check(m.Path, m.Evidence)
				if m.Kind == "" {
					t.Fatalf("no kind: %+v", m)
				}
			}
		}
	})
}
