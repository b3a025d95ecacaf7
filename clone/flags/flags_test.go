package flags

import (
	"encoding/json"
	"fmt"
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

// What strace prints for a pthread_create: the flags experiments leave
// out are named, each with what it does and why it is left out, in one
// line that says what would run without them.
func TestParseLeftOut(t *testing.T) {
	paste := "CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID"
	_, err := ParseClone(paste)
	if err == nil {
		t.Fatalf("ParseClone(%q) took flags experiments leave out", paste)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || strings.Contains(msg, "unknown") {
		t.Errorf("want one line that knows the flags, got %q", msg)
	}
	for _, f := range LeftOut[:3] {
		if !strings.Contains(msg, f.Name+": "+f.Doc) || !strings.Contains(msg, f.LeftOut) {
			t.Errorf("the error does not say what %s does and why it is left out: %q", f.Name, msg)
		}
	}
	if !strings.Contains(msg, "'CLONE_FILES|CLONE_FS|CLONE_VM|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM'") {
		t.Errorf("the error does not name the flags that would run: %q", msg)
	}
	for _, f := range LeftOut {
		for _, spell := range []string{f.Name, strings.ToLower(strings.TrimPrefix(f.Name, "CLONE_")), fmt.Sprintf("%#x", f.Value)} {
			if _, err := ParseClone(spell); err == nil || !strings.Contains(err.Error(), f.LeftOut) {
				t.Errorf("ParseClone(%q): %v; want it refused with why it is left out", spell, err)
			}
		}
	}
}

// The exit signal, which strace prints last: clone takes SIGCHLD (every
// experiment passes it), in words or in a number's low byte; it refuses
// another signal, and unshare(2) (Parse) takes none.
func TestParseExitSignal(t *testing.T) {
	for in, want := range map[string]uint64{
		"CLONE_NEWNET|SIGCHLD": unix.CLONE_NEWNET,
		"net,sigchld":          unix.CLONE_NEWNET,
		"SIGCHLD":              0,
		"0x40000411":           unix.CLONE_NEWNET | unix.CLONE_FILES,
		"0x91":                 unix.CLONE_NEWTIME, // SIGCHLD with CLONE_NEWTIME, the byte's top bit
	} {
		got, err := ParseClone(in)
		if err != nil || uint64(got) != want {
			t.Errorf("ParseClone(%q) = %#x, %v; want %#x", in, uint64(got), err, want)
		}
	}
	for _, in := range []string{"CLONE_NEWNET|SIGUSR1", "0x40000401"} {
		if _, err := ParseClone(in); err == nil || !strings.Contains(err.Error(), "SIGCHLD") || strings.Contains(err.Error(), "\n") {
			t.Errorf("ParseClone(%q): %v; want one line saying experiments pass SIGCHLD", in, err)
		}
	}
	for _, in := range []string{"CLONE_NEWNET|SIGCHLD", "0x40000411"} {
		if _, err := Parse(in); err == nil || !strings.Contains(err.Error(), "exit signal SIGCHLD") {
			t.Errorf("Parse(%q): %v; want the exit signal refused", in, err)
		}
	}
}

// Every entry of the table is found by its name, and the exit signal by
// CSIGNAL or a signal's name, as `nsinspect explain` looks them up.
func TestLookup(t *testing.T) {
	for _, f := range All() {
		if got, ok := Lookup(f.Name); !ok || got.Name != f.Name {
			t.Errorf("Lookup(%q) = %q, %v", f.Name, got.Name, ok)
		}
	}
	for _, name := range []string{"SIGCHLD", "sigchld", "exit_signal", "SIGUSR1"} {
		if got, ok := Lookup(name); !ok || got.Name != ExitSignal.Name {
			t.Errorf("Lookup(%q) = %q, %v; want the exit signal", name, got.Name, ok)
		}
	}
	for _, name := range []string{"net", "settls", "0x40000000", "child_cleartid"} {
		if _, ok := Lookup(name); !ok {
			t.Errorf("Lookup(%q) found nothing", name)
		}
	}
	for _, name := range []string{"", "bogus", "CLONE_NEWFOO", "0x40000400"} {
		if got, ok := Lookup(name); ok {
			t.Errorf("Lookup(%q) = %q, want nothing", name, got.Name)
		}
	}
}
