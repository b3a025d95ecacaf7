package namespaces

import (
	"fmt"
	"strconv"
	"testing"
)

func TestParseLink(t *testing.T) {
	tests := []struct {
		in   string
		t    Type
		ino  uint64
		isNS bool
	}{
		{"net:[4026531833]", Net, 4026531833, true},
		{"mnt:[4026531832]", Mount, 4026531832, true},
		{"time:[4026531834]", Time, 4026531834, true},
		{"cgroup:[4026531835]", Cgroup, 4026531835, true},
		{"ipc:[1]", IPC, 1, true},
		{"user:[18446744073709551615]", User, 1<<64 - 1, true},
		// Other anonymous inodes an fd link can show.
		{"pipe:[187743]", 0, 0, false},
		{"socket:[1]", 0, 0, false},
		{"anon_inode:[eventpoll]", 0, 0, false},
		{"anon_inode:[pidfd]", 0, 0, false},
		// Paths, including ones that look like a namespace.
		{"/dev/null", 0, 0, false},
		{"/run/net:[4026531833]", 0, 0, false},
		{"net:[4026531833] (deleted)", 0, 0, false},
		// Numbers the kernel does not print.
		{"net:[]", 0, 0, false},
		{"net:[0]", 0, 0, false},
		{"net:[01]", 0, 0, false},
		{"net:[-1]", 0, 0, false},
		{"net:[+1]", 0, 0, false},
		{"net:[ 1]", 0, 0, false},
		{"net:[18446744073709551616]", 0, 0, false},
		{"net:[99999999999999999999]", 0, 0, false},
		{"net:[100000000000000000000]", 0, 0, false},
		// Malformed.
		{"net:4026531833", 0, 0, false},
		{"net:[4026531833", 0, 0, false},
		{"net[4026531833]", 0, 0, false},
		{":[1]", 0, 0, false},
		{"NET:[1]", 0, 0, false},
		{"pid_for_children:[4026531836]", 0, 0, false}, // the link's name, not its text
		{"", 0, 0, false},
	}
	for _, tc := range tests {
		typ, ino, ok := ParseLink([]byte(tc.in))
		if ok != tc.isNS || typ != tc.t || ino != tc.ino {
			t.Errorf("ParseLink(%q) = %v, %d, %v; want %v, %d, %v", tc.in, typ, ino, ok, tc.t, tc.ino, tc.isNS)
		}
		if st, sino, sok := ParseLinkString(tc.in); st != typ || sino != ino || sok != ok {
			t.Errorf("ParseLinkString(%q) = %v, %d, %v; ParseLink gave %v, %d, %v", tc.in, st, sino, sok, typ, ino, ok)
		}
	}
}

// Every type's link text parses back to the type: nothing in Types is
// missing from the parser.
func TestParseLinkEveryType(t *testing.T) {
	for _, typ := range Types {
		s := NS{Type: typ, Ino: 4026531840}.String()
		if got, ino, ok := ParseLinkString(s); !ok || got != typ || ino != 4026531840 {
			t.Errorf("ParseLinkString(%q) = %v, %d, %v", s, got, ino, ok)
		}
	}
}

// FuzzParseLink: what parses prints back as the same text, so nothing
// that is not the kernel's own spelling of an nsfs link is accepted.
func FuzzParseLink(f *testing.F) {
	for _, s := range []string{"net:[4026531833]", "pipe:[1]", "/dev/null", "user:[18446744073709551615]", "net:[01]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		typ, ino, ok := ParseLink([]byte(s))
		if st, sino, sok := ParseLinkString(s); st != typ || sino != ino || sok != ok {
			t.Fatalf("ParseLinkString(%q) = %v, %d, %v; ParseLink gave %v, %d, %v", s, st, sino, sok, typ, ino, ok)
		}
		if !ok {
			return
		}
		if want := typ.Name() + ":[" + strconv.FormatUint(ino, 10) + "]"; want != s {
			t.Fatalf("ParseLink(%q) = %v %d, which prints as %q", s, typ, ino, want)
		}
	})
}

func BenchmarkParseLink(b *testing.B) {
	link := []byte("net:[4026531840]")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok := ParseLink(link); !ok {
			b.Fatal("did not parse")
		}
	}
}

func BenchmarkParseLinkString(b *testing.B) {
	link := "net:[4026531840]"
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok := ParseLinkString(link); !ok {
			b.Fatal("did not parse")
		}
	}
}

// The parser must not allocate, even where the benchmarks are not run.
func TestParseLinkAllocs(t *testing.T) {
	b, s := []byte("user:[4026531837]"), "pipe:[4026531837]"
	if n := testing.AllocsPerRun(100, func() { ParseLink(b); ParseLinkString(s) }); n != 0 {
		t.Errorf("%v allocations per call, want 0", n)
	}
}

func ExampleParseLinkString() {
	for _, link := range []string{"net:[4026531840]", "pipe:[4026531840]", "net:[0]"} {
		if t, ino, ok := ParseLinkString(link); ok {
			fmt.Printf("%s: %s namespace, inode %d\n", link, t.Name(), ino)
		} else {
			fmt.Printf("%s: not a namespace\n", link)
		}
	}
	// Output:
	// net:[4026531840]: net namespace, inode 4026531840
	// pipe:[4026531840]: not a namespace
	// net:[0]: not a namespace
}
func TestLinkIndex(t *testing.T) {
	for i, l := range Links {
		if got := LinkIndex(l.Name); got != i {
			t.Errorf("LinkIndex(%q) = %d, want %d", l.Name, got, i)
		}
	}
	if got := LinkIndex("nope"); got != -1 {
		t.Errorf("LinkIndex(nope) = %d, want -1", got)
	}
}
