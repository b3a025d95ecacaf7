package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// nsinspect --version prints one line with the version, and features
// names it too; neither is Go's bare "(devel)".
func TestVersion(t *testing.T) {
	out, code, err := execute(t, "--version")
	if code != exitOK || !strings.HasPrefix(out, "nsinspect ") || strings.Count(out, "\n") != 1 || strings.Contains(out, "(devel)") {
		t.Errorf("--version: exit %d, %v, %q", code, err, out)
	}
	out, code, err = execute(t, "features", "--json")
	var f struct {
		Nsinspect struct{ Version, Source, Go string }
	}
	if code != exitOK || json.Unmarshal([]byte(out), &f) != nil || f.Nsinspect.Version == "" || f.Nsinspect.Version == "(devel)" || f.Nsinspect.Go == "" {
		t.Errorf("features --json: exit %d, %v, nsinspect %+v", code, err, f.Nsinspect)
	}
	if v, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(mustOut(t, "--version")), "nsinspect "), " "); v != f.Nsinspect.Version {
		t.Errorf("--version says %q, features %q", v, f.Nsinspect.Version)
	}
}

func mustOut(t *testing.T, args ...string) string {
	t.Helper()
	out, code, err := execute(t, args...)
	if code != exitOK {
		t.Fatalf("%v: exit %d, %v", args, code, err)
	}
	return out
}
