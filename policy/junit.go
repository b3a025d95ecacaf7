package policy

import (
	"encoding/xml"
	"io"
	"strings"
)

// The JUnit XML that Jenkins, GitLab and GitHub's reporters read: a
// testsuites root with one testsuite; a testcase per rule and matched
// target, failing with one failure per violation; an errored testcase
// for a rule that could not be decided for a target; a skipped testcase
// for a rule that matched no target (and could be decided for all).
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string         `xml:"name,attr"`
	Classname string         `xml:"classname,attr"`
	Skipped   *junitSkipped  `xml:"skipped"`
	Error     *junitFailure  `xml:"error"`
	Failures  []junitFailure `xml:"failure"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

// WriteJUnit writes results (of every target, as Evaluate returned them)
// as JUnit XML: one testcase named after the rule, with the target as
// its classname, per rule and target the rule matched, with one
// <failure type="violation"> per violation whose text is its evidence,
// one line each; one testcase with an <error type="undecided"> per rule
// and target it could not be decided for; and one skipped testcase for
// each rule that matched no target and was decided for every one.
// failures and errors count failing and errored testcases, as the schema
// has it.
func WriteJUnit(w io.Writer, suite string, results []Result) error {
	s := junitSuite{Name: suite}
	var order []string
	byRule := map[string][]Result{}
	for _, r := range results {
		if _, seen := byRule[r.Rule]; !seen {
			order = append(order, r.Rule)
			byRule[r.Rule] = []Result{}
		}
		if r.Matched || r.Undecided != "" {
			byRule[r.Rule] = append(byRule[r.Rule], r)
		}
	}
	for _, rule := range order {
		matched := byRule[rule]
		if len(matched) == 0 {
			s.Cases = append(s.Cases, junitCase{Name: rule, Classname: suite, Skipped: &junitSkipped{Message: "matched no target"}})
			s.Skipped++
			continue
		}
		for _, r := range matched {
			c := junitCase{Name: rule, Classname: r.Target.String()}
			if r.Undecided != "" {
				c.Error = &junitFailure{Message: oneLine("could not be decided: " + r.Undecided), Type: "undecided"}
				s.Errors++
				s.Cases = append(s.Cases, c)
				continue
			}
			for _, v := range r.Violations {
				text := strings.Join(v.evidenceLines(), "\n")
				if text != "" {
					text = "\n" + text + "\n"
				}
				c.Failures = append(c.Failures, junitFailure{Message: v.Summary(), Type: "violation", Text: text})
			}
			if len(c.Failures) > 0 {
				s.Failures++
			}
			s.Cases = append(s.Cases, c)
		}
	}
	s.Tests = len(s.Cases)
	doc := junitSuites{Name: suite, Tests: s.Tests, Failures: s.Failures, Errors: s.Errors, Skipped: s.Skipped, Suites: []junitSuite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
