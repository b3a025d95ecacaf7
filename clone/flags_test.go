package clone

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseFlags(t *testing.T) {
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
		got, err := ParseFlags(c.in)
		if c.want == 0 {
			if err == nil {
				t.Errorf("ParseFlags(%q) = %v, want an error", c.in, got)
			}
			continue
		}
		if err != nil || uint64(got) != c.want {
			t.Errorf("ParseFlags(%q) = %#x, %v; want %#x", c.in, uint64(got), err, c.want)
		}
	}
	for _, bad := range []string{"", "|||", "CLONE_NEWFOO", "0xZZ", "0x1", "files,bogus", "-1", "CLONE_NEWNET|", "|net", "net||files", "net,"} {
		if _, err := ParseFlags(bad); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("ParseFlags(%q): want a one-line error, got %v", bad, err)
		}
	}
}

func TestFlagSetNames(t *testing.T) {
	s := FlagSet(unix.CLONE_FILES | unix.CLONE_NEWNET)
	if got := s.String(); got != "CLONE_NEWNET|CLONE_FILES" {
		t.Errorf("String() = %q", got)
	}
	if FlagSet(unix.CLONE_NEWNET).NeedsClone3() || !FlagSet(unix.CLONE_NEWTIME).NeedsClone3() {
		t.Error("NeedsClone3 wrong")
	}
}

func FuzzParseFlags(f *testing.F) {
	for _, s := range []string{"CLONE_NEWNET|CLONE_FILES", "net,files", "0x40000400", "|||", "CLONE_NEWFOO", "0xZZ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		set, err := ParseFlags(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error for %q", s)
			}
			return
		}
		if uint64(set)&^knownMask != 0 {
			t.Fatalf("ParseFlags(%q) returned unknown bits %#x", s, uint64(set))
		}
		again, err := ParseFlags(set.String())
		if err != nil || again != set {
			t.Fatalf("round trip of %q: %v -> %q -> %v, %v", s, set, set.String(), again, err)
		}
	})
}
