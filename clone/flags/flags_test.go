package flags

import (
	"encoding/json"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParse(t *testing.T) {
	ok := []struct {
		in   string
		want uint64
	}{
		{"CLONE_NEWNET|CLONE_FILES", unix.CLONE_NEWNET | unix.CLONE_FILES},
		{"'CLONE_NEWNET | CLONE_FILES'", 0}, // quotes are the shell's job
		{"newnet,files", unix.CLONE_NEWNET | unix.CLONE_FILES},
		{"net,files", unix.CLONE_NEWNET | unix.CLONE_FILES},
		{"0x40000400", unix.CLONE_NEWNET | unix.CLONE_FILES},
		{"1073742848", unix.CLONE_NEWNET | unix.CLONE_FILES},
		{"mnt", unix.CLONE_NEWNS},
		{"ns", unix.CLONE_NEWNS},
		{"clone_newtime", unix.CLONE_NEWTIME},
		{"time+pid", unix.CLONE_NEWTIME | unix.CLONE_NEWPID},
		{"vm|sighand|thread", unix.CLONE_VM | unix.CLONE_SIGHAND | unix.CLONE_THREAD},
		{"clear_sighand", unix.CLONE_CLEAR_SIGHAND},
	}
	for _, c := range ok {
		got, err := Parse(c.in)
		if c.want == 0 {
			if err == nil {
				t.Errorf("Parse(%q) = %v, want an error", c.in, got)
			}
			continue
		}
		if err != nil || uint64(got) != c.want {
			t.Errorf("Parse(%q) = %#x, %v; want %#x", c.in, uint64(got), err, c.want)
		}
	}
	for _, bad := range []string{"", "|||", "CLONE_NEWFOO", "0xZZ", "0x1", "files,bogus", "-1", "CLONE_NEWNET|", "|net", "net||files", "net,"} {
		if _, err := Parse(bad); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("Parse(%q): want a one-line error, got %v", bad, err)
		}
	}
}

func TestSetNames(t *testing.T) {
	s := Set(unix.CLONE_FILES | unix.CLONE_NEWNET)
	if got := s.String(); got != "CLONE_NEWNET|CLONE_FILES" {
		t.Errorf("String() = %q", got)
	}
	if Set(unix.CLONE_NEWNET).NeedsClone3() || !Set(unix.CLONE_NEWTIME).NeedsClone3() {
		t.Error("NeedsClone3 wrong")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"CLONE_NEWNET|CLONE_FILES", "net,files", "0x40000400", "|||", "CLONE_NEWFOO", "0xZZ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		set, err := Parse(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error for %q", s)
			}
			return
		}
		if uint64(set)&^knownMask != 0 {
			t.Fatalf("Parse(%q) returned unknown bits %#x", s, uint64(set))
		}
		again, err := Parse(set.String())
		if err != nil || again != set {
			t.Fatalf("round trip of %q: %v -> %q -> %v, %v", s, set, set.String(), again, err)
		}
	})
}

// `nsinspect clone 0` is a plain fork: its report lists no flags, as an
// empty list rather than JSON null, and names the set "0".
func TestEmptySet(t *testing.T) {
	b, err := json.Marshal(Set(0).Names())
	if err != nil || string(b) != "[]" {
		t.Errorf("Set(0).Names() encodes as %s, %v; want []", b, err)
	}
	if s := Set(0).String(); s != "0" {
		t.Errorf("Set(0).String() = %q, want \"0\"", s)
	}
}
