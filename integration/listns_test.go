package integration

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/nsinspect/nsinspect/features"
	"github.com/nsinspect/nsinspect/internal/testutil"
)

// ls --source listns: one line and exit 4 where the kernel has no
// listns(2) (or NSINSPECT_PRETEND_MISSING says so) and as nobody, whom
// listns would show a filtered subset; where the kernel has it, root gets
// the ls contract with source "listns" and every namespace's id.
func TestLsSourceListns(t *testing.T) {
	testutil.RequireRoot(t)
	cmd := testutil.Command(t, testutil.Quick, binary, "ls", "--source", "listns")
	cmd.Env = append(os.Environ(), "NSINSPECT_PRETEND_MISSING=listns")
	r := runCmd(t, cmd)
	checkOneLineError(t, r, 4, "ls --source listns without listns")
	if !strings.Contains(r.stderr, "listns(2)") || !strings.Contains(r.stderr, "--source proc") || r.stdout != "" {
		t.Errorf("ls --source listns without listns: stderr %q stdout %q; want one line naming listns(2) and --source proc", r.stderr, r.stdout)
	}
	r = runAs(t, nobody(), "ls", "--source", "listns")
	checkOneLineError(t, r, 4, "ls --source listns as nobody")
	want := "CAP_SYS_ADMIN"
	if !features.Has(features.Listns) {
		want = "listns(2)"
	}
	if !strings.Contains(r.stderr, want) || r.stdout != "" {
		t.Errorf("ls --source listns as nobody: stderr %q stdout %q; want one line naming %s", r.stderr, r.stdout, want)
	}
	r = runAs(t, nil, "ls", "--json", "--source", "listns")
	if !features.Has(features.Listns) {
		checkOneLineError(t, r, 4, "ls --source listns on "+features.Kernel().Release)
		return
	}
	if r.code != 0 {
		t.Fatalf("ls --json --source listns: exit %d: %s", r.code, r.stderr)
	}
	checkContract(t, []string{binary, "ls", "--json"}, r.stdout)
	var out struct {
		Source     string
		Namespaces []struct {
			NS      uint64
			ID      *uint64
			Sources []string
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	if out.Source != "listns" || len(out.Namespaces) < 7 {
		t.Errorf("source %q, %d namespaces; want listns and at least the seven initial ones", out.Source, len(out.Namespaces))
	}
	for _, n := range out.Namespaces {
		if n.ID == nil {
			t.Errorf("namespace %d has no id: listns lists by id", n.NS)
		}
	}
}
