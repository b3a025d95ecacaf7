package procinfo

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func readMountFixture(t *testing.T, name string) []Mount {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata/mountinfo", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := ParseMountInfo(f)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

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
		ms := readMountFixture(t, tt.file)
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

func TestUnescapeOctal(t *testing.T) {
	for in, want := range map[string]string{
		`/a\040b`:        "/a b",
		`\011\012\134`:   "\t\n\\",
		`/plain`:         "/plain",
		`/end\040`:       "/end ",
		`/x\134040y`:     `/x\040y`,
		`/deleted//file`: "/deleted//file",
	} {
		got, err := unescapeOctal(in)
		if err != nil || got != want {
			t.Errorf("unescapeOctal(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{`/a\04`, `/a\`, `/a\999`} {
		if _, err := unescapeOctal(in); err == nil {
			t.Errorf("unescapeOctal(%q) accepted a bad escape", in)
		}
	}
}

func TestParseMountInfoBad(t *testing.T) {
	for _, in := range []string{
		"36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 ext3 /dev/root rw\n", // no "-"
		"x 35 98:0 / / rw - ext3 /dev/root rw\n",
		"36 35 98 / / rw - ext3 /dev/root rw\n",
		"36 35 98:0 / / rw -\n",
		"36 35 98:0 /a\\04 / rw - ext3 /dev/root rw\n",
	} {
		if _, err := ParseMountInfo(strings.NewReader(in)); !errors.Is(err, ErrParse) {
			t.Errorf("ParseMountInfo(%q) = %v, want ErrParse", in, err)
		}
	}
}

func FuzzParseMountInfo(f *testing.F) {
	for _, name := range []string{"space-deleted", "init"} {
		b, err := os.ReadFile(filepath.Join("testdata/mountinfo", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := ParseMountInfo(strings.NewReader(s))
		if refused(t, err) {
			return
		}
		lines := strings.Count(s, "\n")
		if s != "" && !strings.HasSuffix(s, "\n") {
			lines++
		}
		if len(ms) != lines {
			t.Fatalf("%d mounts from %d lines", len(ms), lines)
		}
	})
}
