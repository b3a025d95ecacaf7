package posture

import (
	"errors"
	"testing"
)

func TestParseIDMapFixtures(t *testing.T) {
	for _, tc := range []struct {
		fixture        string
		ranges         int
		identity, root bool
	}{
		{"identity", 1, true, true},       // a docker container without userns-remap: the host's map
		{"map-root-user", 1, false, true}, // unshare -U --map-root-user as root: "0 0 1"
		{"unwritten", 0, false, false},    // unshare -U: nobody maps
		{"two-ranges", 2, false, false},   // root is 100000 outside
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			name := "idmap/" + tc.fixture
			m, err := ParseIDMap(fixture(t, name), "/proc/42/uid_map")
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Ranges) != tc.ranges || m.Identity != tc.identity || m.RootIsHostRoot != tc.root {
				t.Errorf("%+v, want %d ranges, identity %v, root is host root %v", m, tc.ranges, tc.identity, tc.root)
			}
			for _, e := range m.Evidence {
				if e.File != "/proc/42/uid_map" || (e.Line > 0 && e.Line != lineOf(t, name, e.Text)) {
					t.Errorf("evidence %+v", e)
				}
			}
			if len(m.Evidence) == 0 {
				t.Error("no evidence")
			}
		})
	}
}

func TestIDMapRootInsideARange(t *testing.T) {
	// Inside 0 is the first id of the range; an outside 0 later in a range
	// is some other inside id, not root.
	m, err := ParseIDMap([]byte("1 0 10\n"), "f")
	if err != nil || m.RootIsHostRoot {
		t.Errorf("1 0 10: %+v %v, root maps nowhere", m, err)
	}
	m, err = ParseIDMap([]byte("0 0 4294967294\n"), "f")
	if err != nil || m.Identity || !m.RootIsHostRoot {
		t.Errorf("0 0 4294967294: %+v %v", m, err)
	}
	for _, bad := range []string{"0 0\n", "0 0 x\n", "0 0 4294967296\n", "-1 0 1\n"} {
		if _, err := ParseIDMap([]byte(bad), "f"); !errors.Is(err, ErrParse) {
			t.Errorf("ParseIDMap(%q) = %v, want ErrParse", bad, err)
		}
	}
}
