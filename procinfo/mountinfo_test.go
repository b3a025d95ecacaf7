package procinfo

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nsinspect/nsinspect/namespaces"
)

func findMount(ms []Mount, id int) (Mount, bool) {
	for _, m := range ms {
		if m.ID == id {
			return m, true
		}
	}
	return Mount{}, false
}

func TestParseMountInfoFixtures(t *testing.T) {
	tests := []struct {
		file  string
		count int
		want  Mount
	}{
		{"space-deleted", 24, Mount{ID: 67, ParentID: 45, Major: 0, Minor: 39, Root: "/",
			MountPoint: "/tmp/tmp.DN3sqOZfm1/with space", Options: "rw,relatime", Optional: []string{},
			FSType: "tmpfs", Source: "fixture", SuperOptions: "rw"}},
		{"space-deleted", 24, Mount{ID: 68, ParentID: 45, Major: 254, Minor: 0,
			Root: "/tmp/tmp.DN3sqOZfm1/src//deleted", MountPoint: "/tmp/tmp.DN3sqOZfm1/dst",
			Options: "rw,relatime", Optional: []string{}, FSType: "ext4", Source: "/dev/vda",
			SuperOptions: "rw,discard,resv_strict,resuid=65534,resgid=65534"}},
		{"init", 22, Mount{ID: 42, ParentID: 27, Major: 254, Minor: 0, Root: "/var/lib/docker",
			MountPoint: "/var/lib/docker", Options: "rw,relatime", Optional: []string{"shared:1"},
			FSType: "ext4", Source: "/dev/vda", SuperOptions: "rw,discard,resv_strict,resuid=65534,resgid=65534"}},
	}
	for _, tt := range tests {
		ms := parseFixture(t, "mountinfo/"+tt.file, ParseMountInfo)
		if len(ms) != tt.count {
			t.Errorf("%s: %d mounts, want %d", tt.file, len(ms), tt.count)
		}
		got, ok := findMount(ms, tt.want.ID)
		if !ok {
			t.Errorf("%s: no mount %d", tt.file, tt.want.ID)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s mount %d:\n got %+v\nwant %+v", tt.file, tt.want.ID, got, tt.want)
		}
	}
}

func TestUnescapeMountinfo(t *testing.T) {
	for in, want := range map[string]string{
		`/a\040b`:        "/a b",
		`\011\012\134`:   "\t\n\\",
		`/plain`:         "/plain",
		`/end\040`:       "/end ",
		`/x\134040y`:     `/x\040y`,
		`/deleted//file`: "/deleted//file",
		`\377`:           "\xff",
		``:               "",
	} {
		if got, ok := UnescapeMountinfo([]byte(in)); !ok || got != want {
			t.Errorf("UnescapeMountinfo(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{`/a\04`, `/a\`, `/a\999`, `/a\400`, `/a\777`, `\+12`, `/a\0 1`} {
		if got, ok := UnescapeMountinfo([]byte(in)); ok {
			t.Errorf("UnescapeMountinfo(%q) accepted a bad escape: %q", in, got)
		}
	}
}

// FuzzUnescapeMountinfo: what unescapes escapes back (as mangle() does, plus
// any other byte written as an escape) to the input, and the string and byte
// forms agree.
func FuzzUnescapeMountinfo(f *testing.F) {
	for _, s := range []string{`/a\040b`, `\011\012\134`, `/a\04`, `\777`, "/plain"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := UnescapeMountinfo([]byte(s))
		if sgot, sok := unescapeMountinfo(s); sgot != got || sok != ok {
			t.Fatalf("string form %q, %v; byte form %q, %v", sgot, sok, got, ok)
		}
		if !ok {
			return
		}
		if n := len(s) - 3*strings.Count(s, `\`); len(got) != n {
			t.Fatalf("UnescapeMountinfo(%q) = %q: %d bytes, want %d", s, got, len(got), n)
		}
	})
}

func TestParseMountInfoBad(t *testing.T) {
	wantErrParse(t, "ParseMountInfo", ParseMountInfo,
		"36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 ext3 /dev/root rw\n", // no "-"
		"x 35 98:0 / / rw - ext3 /dev/root rw\n",
		"36 35 98 / / rw - ext3 /dev/root rw\n",
		"36 35 98:0 / / rw -\n",
		"36 35 98:0 /a\\04 / rw - ext3 /dev/root rw\n",
		"36 35 98:0 / /a\\400 rw - ext3 /dev/root rw\n",
		"36 35 98:0 / / rw - ext3 /dev/ro\\ot rw\n",
	)
}

func FuzzParseMountInfo(f *testing.F) {
	fuzzParser(f, "mountinfo/*", ParseMountInfo, func(t *testing.T, s string, ms []Mount) {
		lines := strings.Count(s, "\n")
		if s != "" && !strings.HasSuffix(s, "\n") {
			lines++
		}
		if len(ms) != lines {
			t.Fatalf("%d mounts from %d lines", len(ms), lines)
		}
	})
}

func TestParseNSFSMounts(t *testing.T) {
	tests := []struct {
		file string
		want []NSFSMount
	}{
		// A private mount namespace with a bind mount whose path has
		// spaces (\040), and a tmpfs mounted over its directory, which
		// hides it: the line is still listed.
		{"nsfs", []NSFSMount{
			{namespaces.UTS, 4026531838, "/run/nsi test/u ts"},
			{namespaces.Net, 4026531833, "/run/nsi-net"},
		}},
		// The host after `ip netns add`: optional field "shared:3".
		{"ipnetns", []NSFSMount{
			{namespaces.Net, 4026539478, "/run/netns/nsi-fixture"},
		}},
		{"init", nil},
	}
	for _, tc := range tests {
		if got := ParseNSFSMounts(fixture(t, "mountinfo/"+tc.file)); !reflect.DeepEqual(got, tc.want) {
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

// On real mountinfo the quick nsfs parser finds what the full one does.
func TestParseNSFSMountsAgrees(t *testing.T) {
	files, err := filepath.Glob("testdata/mountinfo/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		name = filepath.Join("mountinfo", filepath.Base(name))
		var want []NSFSMount
		for _, m := range parseFixture(t, name, ParseMountInfo) {
			if typ, ino, ok := namespaces.ParseLinkString(m.Root); ok && m.FSType == "nsfs" {
				want = append(want, NSFSMount{typ, ino, m.MountPoint})
			}
		}
		if got := ParseNSFSMounts(fixture(t, name)); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: ParseNSFSMounts gives %+v, ParseMountInfo %+v", name, got, want)
		}
	}
}

func FuzzParseNSFSMounts(f *testing.F) {
	seedFiles(f, "mountinfo/*")
	f.Fuzz(func(t *testing.T, s string) {
		for _, m := range ParseNSFSMounts([]byte(s)) {
			if m.Ino == 0 || !strings.HasPrefix(m.MountPoint, "/") || m.Type.Name() == "" {
				t.Fatalf("bad mount %+v from %q", m, s)
			}
		}
	})
}
