package version

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFrom(t *testing.T) {
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	rev := "ffbbe10c0ffee0123456789abcdef0123456789a"
	for _, c := range []struct {
		name, stamp  string
		bi           *debug.BuildInfo
		want, source string
	}{
		{"make build", "v0.3.0-4-gffbbe10-dirty", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "true")}, "v0.3.0-4-gffbbe10-dirty", FromStamp},
		{"go install module@version", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.3.0"}}, "v0.3.0", FromModule},
		{"go build in a checkout", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260107044143-ffbbe10c0ffe+dirty"}, Settings: vcs(rev, "true")}, "v0.0.0-20260107044143-ffbbe10c0ffe+dirty", FromModule},
		{"VCS only, modified", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "true")}, "ffbbe10c0ffe+dirty", FromVCS},
		{"VCS only, clean", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "false")}, "ffbbe10c0ffe", FromVCS},
		{"go run", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "devel", FromNone},
		{"no build info", "", nil, "devel", FromNone},
	} {
		i := from(c.stamp, c.bi)
		if i.Version != c.want || i.Source != c.source {
			t.Errorf("%s: version %q from %s, want %q from %s", c.name, i.Version, i.Source, c.want, c.source)
		}
		s := i.String()
		if !strings.HasPrefix(s, c.want+" (") || strings.Contains(s, "(devel)") || !strings.Contains(s, i.GoVersion) {
			t.Errorf("%s: String() = %q", c.name, s)
		}
	}
}

// Without a stamp and without VCS information (go test, go run), the
// version still says what it is.
func TestGetNeverBareDevel(t *testing.T) {
	s := Get().String()
	if s == "(devel)" || s == "devel" || strings.Contains(s, "(devel)") {
		t.Errorf("Get().String() = %q", s)
	}
}
