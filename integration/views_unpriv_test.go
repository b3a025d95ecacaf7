package integration

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// TestViewsSayWhatTheyDrop: as nobody, the views built on one pass list
// the tasks whose namespaces they may not read, and say so on stderr,
// rather than drop them: kthreads still lists kthreadd (its stat is
// world-readable), nsproxy lists root's process as unreadable.
func TestViewsSayWhatTheyDrop(t *testing.T) {
	testutil.RequireRoot(t)
	root := testutil.Command(t, testutil.Held, "sleep", "1000")
	startChild(t, root)

	r := runAs(t, nobody(), "kthreads", "--json", "--source", "proc")
	var k struct {
		Source   string `json:"source"`
		Kthreads []struct {
			PID  int    `json:"pid"`
			Comm string `json:"comm"`
		} `json:"kthreads"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &k) != nil {
		t.Fatalf("kthreads as nobody: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	found := false
	for _, x := range k.Kthreads {
		found = found || (x.PID == 2 && x.Comm == "kthreadd")
	}
	if !found || k.Source != "proc" {
		t.Errorf("kthreads as nobody: source %q, %d kernel threads, kthreadd listed: %v; want kthreadd", k.Source, len(k.Kthreads), found)
	}
	if !strings.Contains(r.stderr, "nsinspect: warning: could not read") {
		t.Errorf("kthreads as nobody: stderr %q; want the warning of what could not be read", r.stderr)
	}

	r = runAs(t, nobody(), "nsproxy", "--json", "--source", "proc")
	var n struct {
		Unreadable []struct {
			PID    int    `json:"pid"`
			Reason string `json:"reason"`
		} `json:"unreadable"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &n) != nil {
		t.Fatalf("nsproxy as nobody: exit %d, stderr %q", r.code, r.stderr)
	}
	listed := false
	for _, u := range n.Unreadable {
		listed = listed || u.PID == root.Process.Pid
	}
	if !listed || !strings.Contains(r.stderr, "nsinspect: warning: could not read") {
		t.Errorf("nsproxy as nobody: root's sleep %d among %d unreadable: %v; stderr %q", root.Process.Pid, len(n.Unreadable), listed, r.stderr)
	}
}
