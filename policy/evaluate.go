package policy

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nsinspect/nsinspect/posture"
)

// Result is one rule against one target. Matched is false when the
// rule's match did not select the target; then there are no violations.
// A matched rule with no violations passed. Undecided, when not "", says
// why the rule could not be decided for the target (its match needs an
// identity the engine could not give): neither matched nor passed, and
// never to be reported as fine.
type Result struct {
	Rule       string
	Target     Target
	Matched    bool
	Undecided  string
	Violations []Violation
}

// Passed reports whether the rule selected the target and found nothing.
func (r Result) Passed() bool { return r.Matched && len(r.Violations) == 0 }

// Violation is one expectation a target's facts did not meet. Fact is
// the fact name, with the part of it where the fact has parts
// ("namespaces.net", "capabilities.effective", "cgroup.pids_max");
// Expected is what the rule asked for and Actual a phrase saying what is
// ("is shared with the reference (net:[4026531833])", "could not be
// read: permission denied").
type Violation struct {
	Rule     string             `json:"rule"`
	Fact     string             `json:"fact"`
	Expected string             `json:"expected"`
	Actual   string             `json:"actual"`
	Evidence []posture.Evidence `json:"evidence"`
}

// String is the violation on one line:
//
//	rule R: FACT: expected EXPECTED, ACTUAL; evidence: E1; E2
func (v Violation) String() string {
	s := "rule " + v.Rule + ": " + v.Summary()
	if ev := v.evidenceLines(); len(ev) > 0 {
		s += "; evidence: " + strings.Join(ev, "; ")
	}
	return s
}

// Summary is the violation without its rule and evidence:
// "FACT: expected EXPECTED, ACTUAL".
func (v Violation) Summary() string {
	return oneLine(v.Fact + ": expected " + v.Expected + ", " + v.Actual)
}

func (v Violation) evidenceLines() []string {
	var lines []string
	for _, e := range v.Evidence {
		if s := formatEvidence(e); s != "" {
			lines = append(lines, s)
		}
	}
	return lines
}

// formatEvidence renders one piece of evidence as the call, the file
// (with :line), and the text read, quoted: `readlink /proc/4242/ns/net`,
// `/proc/4242/status:42 "CapEff:\t0000000000000000"`.
func formatEvidence(e posture.Evidence) string {
	var parts []string
	if e.Call != "" {
		parts = append(parts, oneLine(e.Call))
	}
	if e.File != "" {
		f := oneLine(e.File)
		if e.Line > 0 {
			f += ":" + strconv.Itoa(e.Line)
		}
		parts = append(parts, f)
	}
	if e.Text != "" {
		parts = append(parts, strconv.Quote(e.Text))
	}
	return strings.Join(parts, " ")
}

// oneLine keeps a report to one line of printable text: line breaks
// become spaces, other control characters Go escapes (\x01).
func oneLine(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// check is one fact's expectation in a rule.
type check interface {
	fact() string
	// expected says what the check asks for, for a fact that could not
	// be read at all.
	expected() string
	eval(t Target, f *posture.Facts) []Violation
}

// Evaluate runs every expect rule (not the event rules) against one target's facts, in file order,
// one Result per rule. A fact that could not be read (its Err set) is a
// violation of every expectation on it, never a pass; nil facts are a
// violation of every expectation.
func (p *Policy) Evaluate(t Target, f *posture.Facts) []Result {
	results := make([]Result, 0, len(p.rules))
	for _, r := range p.rules {
		if r.Forbids() {
			continue
		}
		res := Result{Rule: r.name, Target: t}
		switch r.match.decide(t) {
		case isMatch:
			res.Matched = true
		case cannotTell:
			res.Undecided = "its match selects on what only the engine knows (name, image, labels, pod namespace), and " +
				t.String() + "'s identity is unknown: " + t.Unidentified
		}
		if res.Matched {
			for _, c := range r.checks {
				var vs []Violation
				if f == nil {
					vs = []Violation{unread(c.fact(), c.expected(), "no facts were gathered for the target")}
				} else {
					vs = c.eval(t, f)
				}
				for i := range vs {
					vs[i].Rule = r.name
				}
				res.Violations = append(res.Violations, vs...)
			}
		}
		results = append(results, res)
	}
	return results
}

// unread is the violation of an expectation on a fact with Err set.
func unread(fact, expected, err string, ev ...posture.Evidence) Violation {
	return Violation{Fact: fact, Expected: expected, Actual: "could not be read: " + err, Evidence: ev}
}

// wholeFile is the evidence for a fact read from all of one /proc file
// (an absence in it, say), where the target's pid is known.
func wholeFile(t Target, name string) []posture.Evidence {
	if t.PID <= 0 {
		return nil
	}
	return []posture.Evidence{{File: fmt.Sprintf("/proc/%d/%s", t.PID, name)}}
}

// evidenceFor keeps the evidence whose file or text mentions one of
// words, or all of it if none does.
func evidenceFor(ev []posture.Evidence, words ...string) []posture.Evidence {
	var kept []posture.Evidence
	for _, e := range ev {
		for _, w := range words {
			if strings.Contains(e.File, w) || strings.HasPrefix(e.Text, w) || strings.Contains(e.Call, w) {
				kept = append(kept, e)
				break
			}
		}
	}
	if kept == nil {
		return ev
	}
	return kept
}
