package posture

import "testing"

func TestParseAttr(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		want    string // "" for nil
	}{
		{"apparmor", "docker-default (enforce)"},
		{"selinux", "system_u:system_r:container_t:s0:c123,c456"},
		{"unconfined", "unconfined"},
		{"empty", ""},
	} {
		got := ParseAttr(fixture(t, "attr/"+tc.fixture))
		if (got == nil) != (tc.want == "") || got != nil && *got != tc.want {
			t.Errorf("%s: %v, want %q", tc.fixture, got, tc.want)
		}
	}
}
