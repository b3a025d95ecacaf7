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
// listns(2) (or NSINSPECT_PRETEND_MISSING says so), as root or nobody.
// Where the kernel has it, nobody, whom listns shows a filtered subset,
// gets the /proc walk plus that subset, exit 0, and one note on stderr
// saying the view was filtered and why; root gets the ls contract with
// source "listns", every namespace's id, and no note.
func TestLsSourceListns(t *testing.T) {
	testutil.RequireRoot(t)
	cmd := testutil.Command(t, testutil.Quick, binary, "ls", "--source", "listns")
	cmd.Env = append(os.Environ(), "NSINSPECT_PRETEND_MISSING=listns")
	r := runCmd(t, cmd)
	checkOneLineError(t, r, 4, "ls --source listns without listns")
	if !strings.Contains(r.stderr, "listns(2)") || !strings.Contains(r.stderr, "--source proc") || r.stdout != "" {
		t.Errorf("ls --source listns without listns: stderr %q stdout %q; want one line naming listns(2) and --source proc", r.stderr, r.stdout)
	}
	r = runAs(t, nobody(), "ls", "--json", "--source", "listns")
	if !features.Has(features.Listns) {
		checkOneLineError(t, r, 4, "ls --source listns as nobody on "+features.Kernel().Release)
		if !strings.Contains(r.stderr, "listns(2)") || r.stdout != "" {
			t.Errorf("ls --source listns as nobody: stderr %q stdout %q; want one line naming listns(2)", r.stderr, r.stdout)
		}
	} else {
		if r.code != 0 {
			t.Fatalf("ls --json --source listns as nobody: exit %d: %s", r.code, r.stderr)
		}
		if n := strings.Count(r.stderr, "filtered view"); n != 1 || !strings.Contains(r.stderr, "no CAP_SYS_ADMIN") {
			t.Errorf("ls --source listns as nobody: stderr %q; want one note that listns(2) showed a filtered view for want of CAP_SYS_ADMIN", r.stderr)
		}
		var out struct{ Source string }
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out.Source != "listns" {
			t.Errorf("ls --source listns as nobody: source %q (%v), want listns", out.Source, err)
		}
	}
	r = runAs(t, nil, "ls", "--json", "--source", "listns")
	if !features.Has(features.Listns) {
		checkOneLineError(t, r, 4, "ls --source listns on "+features.Kernel().Release)
		return
	}
	if r.code != 0 || strings.Contains(r.stderr, "filtered") {
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
