package procinfo

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseCgroupFixtures(t *testing.T) {
	for _, tt := range []struct {
		file  string
		count int
		check []Cgroup // lines that must be present
	}{
		{"hybrid", 10, []Cgroup{
			{9, []string{"name=systemd"}, "/"},
			{4, []string{"memory"}, "/process_api/61f483a838cdf74b7b94554824aeb6cf"},
			{0, []string{}, "/"},
		}},
		{"v2-space-colon", 10, []Cgroup{
			{4, []string{"memory"}, "/process_api/61f483a838cdf74b7b94554824aeb6cf"},
			{0, []string{}, "/nsinspect fixture:a"},
		}},
		{"cgroupns", 10, []Cgroup{{0, []string{}, "/"}, {1, []string{"cpu"}, "/"}}},
	} {
		f, err := os.Open(filepath.Join("testdata/cgroup", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseCgroup(f)
		f.Close()
		if err != nil {
			t.Errorf("%s: %v", tt.file, err)
			continue
		}
		if len(got) != tt.count {
			t.Errorf("%s: %d lines, want %d", tt.file, len(got), tt.count)
		}
	next:
		for _, want := range tt.check {
			for _, c := range got {
				if c.HierarchyID == want.HierarchyID {
					if !reflect.DeepEqual(c, want) {
						t.Errorf("%s: got %+v, want %+v", tt.file, c, want)
					}
					continue next
				}
			}
			t.Errorf("%s: no hierarchy %d", tt.file, want.HierarchyID)
		}
	}
}

func TestParseCgroupBad(t *testing.T) {
	for _, in := range []string{"0:/\n", "x::/\n", "-1::/\n", "just text\n"} {
		if _, err := ParseCgroup(strings.NewReader(in)); !errors.Is(err, ErrParse) {
			t.Errorf("ParseCgroup(%q) = %v, want ErrParse", in, err)
		}
	}
}

func FuzzParseCgroup(f *testing.F) {
	seedFiles(f, "cgroup/*")
	f.Fuzz(func(t *testing.T, s string) {
		cgs, err := ParseCgroup(strings.NewReader(s))
		if refused(t, err) {
			return
		}
		for _, c := range cgs {
			if c.HierarchyID < 0 || c.Controllers == nil {
				t.Fatalf("bad line parsed: %+v", c)
			}
		}
	})
}
