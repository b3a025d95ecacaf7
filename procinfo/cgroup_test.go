package procinfo

import (
	"reflect"
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
		got := parseFixture(t, "cgroup/"+tt.file, ParseCgroup)
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
	wantErrParse(t, "ParseCgroup", ParseCgroup, "0:/\n", "x::/\n", "-1::/\n", "just text\n")
}

func FuzzParseCgroup(f *testing.F) {
	fuzzParser(f, "cgroup/*", ParseCgroup, func(t *testing.T, _ string, cgs []Cgroup) {
		for _, c := range cgs {
			if c.HierarchyID < 0 || c.Controllers == nil {
				t.Fatalf("bad line parsed: %+v", c)
			}
		}
	})
}
