package integration

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestAuditPolicyFailsClosed: a rule that selects containers by name
// cannot be decided when the engine cannot say who a container is. With
// a --network host container audited by PID, under a rule "containers
// named like this one have their own net":
//   - the engine answers: the rule matches and is violated, exit 1;
//   - the engine is too slow (--engine-timeout 1ns): undecided, exit 5,
//     one stderr line naming the rule and why, and a JUnit <error>;
//   - the engine's socket refuses us (as nobody): undecided, exit 4.
//
// Before, the last two exited 0 with the rule "skipped".
func TestAuditPolicyFailsClosed(t *testing.T) {
	e := requireEngine(t)
	c := e.startHold(t, "failclosed", "--network", "host")
	dir, err := os.MkdirTemp("", "nsinspect-failclosed-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil { // nobody reads the policy
		t.Fatal(err)
	}
	pol := filepath.Join(dir, "p.yaml")
	if err = os.WriteFile(pol, []byte(`version: 1
rules:
  - name: named-isolated
    match: {name: "nsinspect-it-failclosed-*"}
    expect:
      namespaces: {separate: [net]}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	pid := strconv.Itoa(c.pid)

	r := nsinspect(t, "audit", pid, "--policy", pol)
	if r.code != 1 || !strings.Contains(r.stderr, "violation: rule named-isolated") {
		t.Errorf("engine answers: exit %d, stderr %q; want 1 and the violation", r.code, r.stderr)
	}

	junit := filepath.Join(dir, "slow.xml")
	r = nsinspect(t, "audit", pid, "--policy", pol, "--engine-timeout", "1ns", "--junit", junit)
	if r.code != 5 || !strings.Contains(r.stderr, "undecided: rule named-isolated for docker/") ||
		!strings.Contains(r.stderr, "deadline exceeded") || strings.Contains(r.stderr, "violation") {
		t.Errorf("engine too slow: exit %d, stderr %q; want 5 and the rule undecided", r.code, r.stderr)
	}
	checkJUnitError(t, junit, "named-isolated")

	r = nsinspect(t, "audit", pid, "--policy", pol, "--engine-timeout", "1ns", "--json")
	if r.code != 5 || !strings.Contains(r.stdout, `"undecided": [`) || !strings.Contains(r.stdout, `"rule": "named-isolated"`) {
		t.Errorf("engine too slow, --json: exit %d, stdout %q; want the undecided rule listed", r.code, r.stdout)
	}

	r = runAs(t, nobody(), "audit", pid, "--policy", pol)
	if r.code != 4 || !strings.Contains(r.stderr, "undecided: rule named-isolated") || !strings.Contains(r.stderr, "permission denied") {
		t.Errorf("socket refused (as nobody): exit %d, stderr %q; want 4 and the rule undecided", r.code, r.stderr)
	}
}

// checkJUnitError asserts that rule is an errored testcase, not skipped.
func checkJUnitError(t *testing.T, path, rule string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Errors int `xml:"errors,attr"`
		Suites []struct {
			Cases []struct {
				Name    string    `xml:"name,attr"`
				Error   *struct{} `xml:"error"`
				Skipped *struct{} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &rep); err != nil {
		t.Fatalf("JUnit: %v\n%s", err, b)
	}
	found := false
	for _, s := range rep.Suites {
		for _, c := range s.Cases {
			if c.Name == rule {
				found = true
				if c.Error == nil || c.Skipped != nil {
					t.Errorf("JUnit: %s is not an <error>:\n%s", rule, b)
				}
			}
		}
	}
	if !found || rep.Errors != 1 {
		t.Errorf("JUnit: %s found %v, errors=%d; want it and 1:\n%s", rule, found, rep.Errors, b)
	}
}
