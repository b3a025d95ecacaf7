package procinfo

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseIDMapFixtures(t *testing.T) {
	for _, tt := range []struct {
		file string
		want []IDMapRange
	}{
		{"init", []IDMapRange{{0, 0, 4294967295}}},
		{"map-root-user", []IDMapRange{{0, 0, 1}}},
		{"two-ranges", []IDMapRange{{0, 100000, 1000}, {1000, 2000, 1}}},
	} {
		if got := parseFixture(t, "idmap/"+tt.file, ParseIDMap); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.file, got, tt.want)
		}
	}
}

func TestParseIDMapEdge(t *testing.T) {
	if got, err := ParseIDMap(strings.NewReader("")); err != nil || len(got) != 0 {
		t.Errorf("empty map (never written): %v, %v", got, err)
	}
	wantErrParse(t, "ParseIDMap", ParseIDMap, "0 0\n", "0 0 1 2\n", "-1 0 1\n", "0 0 4294967296\n", "a b c\n")
}

func FuzzParseIDMap(f *testing.F) {
	fuzzParser(f, "idmap/*", ParseIDMap, func(t *testing.T, s string, ranges []IDMapRange) {
		if len(ranges) > strings.Count(s, "\n")+1 {
			t.Fatalf("%d ranges from %q", len(ranges), s)
		}
	})
}
