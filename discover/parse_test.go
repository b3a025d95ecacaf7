package discover

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nsinspect/nsinspect/namespaces"
)

func TestParseNSLink(t *testing.T) {
	tests := []struct {
		in   string
		t    namespaces.Type
		ino  uint64
		isNS bool
	}{
		{"net:[4026531833]", namespaces.Net, 4026531833, true},
		{"mnt:[4026531832]", namespaces.Mount, 4026531832, true},
		{"time:[4026531834]", namespaces.Time, 4026531834, true},
		{"cgroup:[4026531835]", namespaces.Cgroup, 4026531835, true},
		{"user:[18446744073709551615]", namespaces.User, 1<<64 - 1, true},
		// Other anonymous inodes an fd link can show.
		{"pipe:[187743]", 0, 0, false},
		{"socket:[12345]", 0, 0, false},
		{"anon_inode:[eventpoll]", 0, 0, false},
		{"anon_inode:[pidfd]", 0, 0, false},
		// Paths, including ones that look like a namespace.
		{"/dev/null", 0, 0, false},
		{"/run/net:[4026531833]", 0, 0, false},
		{"net:[4026531833] (deleted)", 0, 0, false},
		// Malformed.
		{"net:[]", 0, 0, false},
		{"net:[0]", 0, 0, false},
		{"net:[-1]", 0, 0, false},
		{"net:[18446744073709551616]", 0, 0, false},
		{"net:4026531833", 0, 0, false},
		{"pid_for_children:[4026531836]", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tc := range tests {
		typ, ino, ok := parseNSLink([]byte(tc.in))
		if ok != tc.isNS || typ != tc.t || ino != tc.ino {
			t.Errorf("parseNSLink(%q) = %v, %d, %v; want %v, %d, %v", tc.in, typ, ino, ok, tc.t, tc.ino, tc.isNS)
		}
	}
}

func TestParseNSFSMounts(t *testing.T) {
	tests := []struct {
		file string
		want []NSFSMount
	}{
		// A private mount namespace with a bind mount whose path has
		// spaces (\040), and a tmpfs mounted over its directory, which
		// hides it: the line is still listed.
		{"mountinfo-nsfs", []NSFSMount{
			{namespaces.UTS, 4026531838, "/run/nsi test/u ts"},
			{namespaces.Net, 4026531833, "/run/nsi-net"},
		}},
		// The host after `ip netns add`: optional field "shared:3".
		{"mountinfo-ipnetns", []NSFSMount{
			{namespaces.Net, 4026539478, "/run/netns/nsi-fixture"},
		}},
	}
	for _, tc := range tests {
		b, err := os.ReadFile(filepath.Join("testdata", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		if got := ParseNSFSMounts(b); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %+v, want %+v", tc.file, got, tc.want)
		}
	}
}

func TestParseNSFSMountsOdd(t *testing.T) {
	in := strings.Join([]string{
		`1 2 0:4 net:[5] /a\ rw - nsfs nsfs rw`,             // broken escape
		`1 2 0:4 net:[5] /b\0 rw - nsfs nsfs rw`,            // short escape
		`1 2 0:4 net:[5] /c\777 rw - nsfs nsfs rw`,          // escape above 0xff
		`1 2 0:4 net:[5] relative rw - nsfs nsfs rw`,        // not absolute
		`1 2 0:4 / /d rw - nsfs nsfs rw`,                    // root is not ns:[ino]
		`1 2 0:4 net:[5] /e rw - tmpfs nsfs rw`,             // not nsfs
		`1 2 0:4 net:[5] /f rw`,                             // no separator
		`1 2 0:4 ipc:[7] /g\134h rw a:1 b:2 - nsfs nsfs rw`, // backslash, two optional fields
	}, "\n")
	want := []NSFSMount{{namespaces.IPC, 7, `/g\h`}}
	if got := ParseNSFSMounts([]byte(in)); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestEachDirent(t *testing.T) {
	rec := func(name string) []byte {
		n := (19 + len(name) + 1 + 7) &^ 7
		b := make([]byte, n)
		binary.NativeEndian.PutUint16(b[16:], uint16(n))
		copy(b[19:], name)
		return b
	}
	var buf []byte
	for _, n := range []string{".", "..", "1", "4242", "self"} {
		buf = append(buf, rec(n)...)
	}
	var got []string
	if err := eachDirent(buf, func(n []byte) { got = append(got, string(n)) }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"1", "4242", "self"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if err := eachDirent(buf[:len(buf)-3], func([]byte) {}); err == nil {
		t.Error("truncated record: want an error")
	}
}

func FuzzParseNSLink(f *testing.F) {
	for _, s := range []string{"net:[4026531833]", "pipe:[1]", "/dev/null", "user:[18446744073709551615]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		typ, ino, ok := parseNSLink([]byte(s))
		if !ok {
			return
		}
		if want := typ.Name() + ":[" + uitoa(ino) + "]"; want != s {
			t.Fatalf("parseNSLink(%q) = %v %d, which prints as %q", s, typ, ino, want)
		}
	})
}

func uitoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		if v /= 10; v == 0 {
			return string(b[i:])
		}
	}
}

func FuzzParseNSFSMounts(f *testing.F) {
	for _, fn := range []string{"testdata/mountinfo-nsfs", "testdata/mountinfo-ipnetns"} {
		b, _ := os.ReadFile(fn)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, m := range ParseNSFSMounts(b) {
			if m.Ino == 0 || !strings.HasPrefix(m.MountPoint, "/") || m.Type.Name() == "" {
				t.Fatalf("bad mount %+v from %q", m, b)
			}
		}
	})
}

func FuzzEachDirent(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, 24))
	f.Fuzz(func(t *testing.T, b []byte) {
		eachDirent(b, func(name []byte) {
			if len(name) > len(b) {
				t.Fatalf("name longer than the buffer")
			}
		})
	})
}
