package policy

import (
	"bytes"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
)

// The JUnit schema as reporters read it, decoded independently of the
// writer's own types.
type jSuites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Cases    []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Skipped   []struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
			Failures []struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestWriteJUnit(t *testing.T) {
	p := mustParse(t, `version: 1
rules:
  - name: isolated
    match: {engine: docker}
    expect:
      namespaces: {separate: [net, pid]}
      no_new_privs: true
  - name: podman-rootless
    match: {engine: podman}
    expect: {user_mapping: not-host-root}
  - name: seccomp
    expect: {seccomp: filter}
`)
	broken := goodFacts()
	broken.Namespaces["net"] = nsFact("net", true)
	broken.NoNewPrivs.Value = false
	other := web
	other.Name = "web-2"
	host := Target{Engine: "host", PID: 1}
	var results []Result
	results = append(results, p.Evaluate(web, broken)...)
	results = append(results, p.Evaluate(other, goodFacts())...)
	hostFacts := goodFacts()
	hostFacts.Seccomp.Mode = "disabled"
	results = append(results, p.Evaluate(host, hostFacts)...)

	var buf bytes.Buffer
	if err := WriteJUnit(&buf, "nsinspect audit", results); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), xml.Header) {
		t.Errorf("no XML header:\n%s", buf.String())
	}
	var doc jSuites
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if len(doc.Suites) != 1 {
		t.Fatalf("%d testsuites, want 1", len(doc.Suites))
	}
	s := doc.Suites[0]
	// isolated: web-1 (fails twice), web-2; podman-rootless: skipped;
	// seccomp: web-1, web-2, host (fails).
	if s.Name != "nsinspect audit" || s.Tests != 6 || s.Failures != 2 || s.Errors != 0 || s.Skipped != 1 || len(s.Cases) != 6 {
		t.Errorf("suite %q: tests %d failures %d errors %d skipped %d, %d testcases; want 6 2 0 1 6", s.Name, s.Tests, s.Failures, s.Errors, s.Skipped, len(s.Cases))
	}
	if doc.Tests != s.Tests || doc.Failures != s.Failures || doc.Errors != 0 {
		t.Errorf("testsuites totals %d %d %d", doc.Tests, doc.Failures, doc.Errors)
	}
	var cases, failures, skipped []string
	for _, c := range s.Cases {
		cases = append(cases, c.Name+"@"+c.Classname)
		for _, f := range c.Failures {
			if f.Type != "violation" {
				t.Errorf("failure type %q", f.Type)
			}
			failures = append(failures, c.Name+"@"+c.Classname+": "+f.Message+" |"+strings.TrimSpace(f.Text))
		}
		for _, sk := range c.Skipped {
			skipped = append(skipped, c.Name+": "+sk.Message)
		}
	}
	wantCases := "isolated@docker/web-1 isolated@docker/web-2 podman-rootless@nsinspect audit seccomp@docker/web-1 seccomp@docker/web-2 seccomp@host/pid-1"
	if strings.Join(cases, " ") != wantCases {
		t.Errorf("testcases %v\nwant %s", cases, wantCases)
	}
	wantFailures := []string{
		"isolated@docker/web-1: namespaces.net: expected separate, is shared with the reference (net:[4026531833]) |readlink /proc/4242/ns/net",
		`isolated@docker/web-1: no_new_privs: expected true, is false |/proc/4242/status:44 "NoNewPrivs:\t1"`,
		`seccomp@host/pid-1: seccomp: expected filter, is disabled |/proc/4242/status:45 "Seccomp:\t2"`,
	}
	if strings.Join(failures, "\n") != strings.Join(wantFailures, "\n") {
		t.Errorf("failures:\n%s\nwant:\n%s", strings.Join(failures, "\n"), strings.Join(wantFailures, "\n"))
	}
	if strings.Join(skipped, "") != "podman-rootless: matched no target" {
		t.Errorf("skipped %v", skipped)
	}
}

func TestWriteJUnitEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, "empty", nil); err != nil {
		t.Fatal(err)
	}
	var doc jSuites
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil || len(doc.Suites) != 1 || doc.Suites[0].Tests != 0 {
		t.Errorf("%v %+v\n%s", err, doc, buf.String())
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteJUnitWriteError(t *testing.T) {
	if err := WriteJUnit(failWriter{}, "s", nil); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("WriteJUnit to a failing writer: %v", err)
	}
}
