package procinfo

import (
	"errors"
	"os"
	"path/filepath"
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
		f, err := os.Open(filepath.Join("testdata/idmap", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseIDMap(f)
		f.Close()
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %v, %v; want %v", tt.file, got, err, tt.want)
		}
	}
}

func TestParseIDMapEdge(t *testing.T) {
	if got, err := ParseIDMap(strings.NewReader("")); err != nil || len(got) != 0 {
		t.Errorf("empty map (never written): %v, %v", got, err)
	}
	for _, in := range []string{"0 0\n", "0 0 1 2\n", "-1 0 1\n", "0 0 4294967296\n", "a b c\n"} {
		if _, err := ParseIDMap(strings.NewReader(in)); !errors.Is(err, ErrParse) {
			t.Errorf("ParseIDMap(%q) = %v, want ErrParse", in, err)
		}
	}
}

func FuzzParseIDMap(f *testing.F) {
	seedFiles(f, "idmap/*")
	f.Fuzz(func(t *testing.T, s string) {
		ranges, err := ParseIDMap(strings.NewReader(s))
		if refused(t, err) {
			return
		}
		if len(ranges) > strings.Count(s, "\n")+1 {
			t.Fatalf("%d ranges from %q", len(ranges), s)
		}
	})
}
