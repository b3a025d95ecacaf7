package policy

import (
	"bytes"
	"strings"
	"testing"
)

// TestUndecidedWhenIdentityUnknown: a rule that selects on what only the
// engine knows is undecided for a container whose engine could not be
// asked: not matched, not passed, and never "matched no target" in
// JUnit. A rule its engine glob rules out, or one on the engine alone,
// is still decided.
func TestUndecidedWhenIdentityUnknown(t *testing.T) {
	p, err := Parse("p.yaml", []byte(`version: 1
rules:
  - name: by-name
    match: {name: "ux*"}
    expect: {namespaces: {separate: [net]}}
  - name: by-label
    match: {labels: {tier: web}}
    expect: {namespaces: {separate: [net]}}
  - name: other-engine
    match: {engine: podman, name: "ux*"}
    expect: {namespaces: {separate: [net]}}
  - name: any-docker
    match: {engine: docker}
    expect: {namespaces: {separate: [net]}}
`))
	if err != nil {
		t.Fatal(err)
	}
	f := goodFacts()
	f.Namespaces["net"] = nsFact("net", true) // --network host
	unknown := Target{Engine: "docker", ID: strings.Repeat("ab", 32), PID: 4242,
		Unidentified: "the Docker engine did not answer in time"}
	want := map[string]struct {
		matched, undecided bool
		violations         int
	}{
		"by-name":      {undecided: true},
		"by-label":     {undecided: true},
		"other-engine": {},
		"any-docker":   {matched: true, violations: 1},
	}
	results := p.Evaluate(unknown, f)
	for _, r := range results {
		w := want[r.Rule]
		if r.Matched != w.matched || (r.Undecided != "") != w.undecided || len(r.Violations) != w.violations {
			t.Errorf("%s: matched %v, undecided %q, %d violations; want %+v", r.Rule, r.Matched, r.Undecided, len(r.Violations), w)
		}
		if r.Undecided != "" && (r.Passed() || !strings.Contains(r.Undecided, "did not answer in time")) {
			t.Errorf("%s: undecided %q passed=%v; want the engine's reason and not passed", r.Rule, r.Undecided, r.Passed())
		}
	}

	// The same container with its identity known is decided: by-name
	// matches "uxweb" and is violated.
	known := unknown
	known.Unidentified, known.Name = "", "uxweb"
	for _, r := range p.Evaluate(known, f) {
		if r.Undecided != "" {
			t.Errorf("%s: undecided %q for a known target", r.Rule, r.Undecided)
		}
		if r.Rule == "by-name" && (!r.Matched || len(r.Violations) != 1) {
			t.Errorf("by-name on uxweb: matched %v, %d violations; want the violation", r.Matched, len(r.Violations))
		}
	}

	var b bytes.Buffer
	if err := WriteJUnit(&b, "nsinspect audit", results); err != nil {
		t.Fatal(err)
	}
	x := b.String()
	for _, s := range []string{`errors="2"`, `<error message="could not be decided: `, `type="undecided"`, `failures="1"`} {
		if !strings.Contains(x, s) {
			t.Errorf("JUnit lacks %s:\n%s", s, x)
		}
	}
	// by-name and by-label are errors, not skipped; other-engine matched
	// nothing and could be decided: it alone is skipped.
	if strings.Count(x, "<skipped") != 1 || !strings.Contains(x, `skipped="1"`) {
		t.Errorf("JUnit: want exactly other-engine skipped:\n%s", x)
	}
}
