package integration

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// TestVersionEverywhere: --version, features --json and serve's
// nsinspect_build_info name one version, and none is Go's bare "(devel)".
func TestVersionEverywhere(t *testing.T) {
	testutil.RequireRoot(t)
	line := strings.TrimSpace(mustRun(t, "--version"))
	v, _, _ := strings.Cut(strings.TrimPrefix(line, "nsinspect "), " ")
	if !strings.HasPrefix(line, "nsinspect ") || v == "" || strings.Contains(line, "(devel)") {
		t.Fatalf("--version printed %q", line)
	}
	var f struct {
		Nsinspect struct{ Version string }
	}
	if err := json.Unmarshal([]byte(mustRun(t, "features", "--json")), &f); err != nil || f.Nsinspect.Version != v {
		t.Errorf("features --json: nsinspect.version %q (%v), --version says %q", f.Nsinspect.Version, err, v)
	}
	s := startServe(t, "--source", "proc")
	status, body := s.get(t, "/metrics")
	re := regexp.MustCompile(`(?m)^nsinspect_build_info\{goversion="[^"]+",version="([^"]*)"\} 1$`)
	m := re.FindSubmatch(body)
	if status != 200 || m == nil || string(m[1]) != v {
		t.Errorf("/metrics: status %d, build_info %q; want version=%q", status, m, v)
	}
}

// TestMakeBuildStampsGitDescribe: `make build` stamps the version git
// describe gives, which --version then prints.
func TestMakeBuildStampsGitDescribe(t *testing.T) {
	git := testutil.RequireCommand(t, "git", "git")
	mk := testutil.RequireCommand(t, "make", "make")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	describe, err := exec.CommandContext(ctx, git, "describe", "--tags", "--always", "--dirty").Output()
	if err != nil {
		testutil.Unavailable(t, "git describe failed: not a git checkout ("+err.Error()+")", "run from a git clone of nsinspect")
	}
	bin := filepath.Join(t.TempDir(), "nsinspect")
	build := exec.CommandContext(ctx, mk, "-C", "..", "build", "BIN="+bin)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	out, err := exec.CommandContext(ctx, bin, "--version").CombinedOutput()
	want := "nsinspect " + strings.TrimSpace(string(describe)) + " (git describe) "
	if err != nil || !strings.HasPrefix(string(out), want) {
		t.Errorf("--version of make build's binary: %q, %v; want it to start with %q", out, err, want)
	}
}
