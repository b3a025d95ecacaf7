package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Version is the one version of the format this package reads.
const Version = 1

// Policy is a parsed policy file. It is immutable: nothing it returns
// gives a way to change it, so one Policy may serve many goroutines.
type Policy struct {
	file  string
	rules []Rule
}

// Rule is one rule of a policy.
type Rule struct {
	name        string
	description string
	line, col   int
	match       match
	checks      []check   // expect: facts of a target (audit, serve's pass)
	forbid      []pattern // forbid: events (watch --policy, serve --events)
}

// Name is the rule's name, unique in its policy.
func (r Rule) Name() string { return r.name }

// Description is the rule's description, "" if it has none.
func (r Rule) Description() string { return r.description }

// Pos is where the rule starts in its file.
func (r Rule) Pos() (line, col int) { return r.line, r.col }

// Facts are the facts the rule expects, in file order.
func (r Rule) Facts() []string {
	facts := make([]string, len(r.checks))
	for i, c := range r.checks {
		facts[i] = c.fact()
	}
	return facts
}

// Forbids reports whether the rule is an event rule (forbid), checked on
// events by CheckEvent; otherwise it expects facts (expect), checked by
// Evaluate.
func (r Rule) Forbids() bool { return len(r.forbid) > 0 }

// Matches reports whether the rule's match selects t; false also when it
// cannot tell (see Evaluate's Undecided).
func (r Rule) Matches(t Target) bool { return r.match.decide(t) == isMatch }

// NeedsIdentity reports whether the rule's match selects on what only a
// container's engine knows: its name, image, labels or pod namespace.
func (r Rule) NeedsIdentity() bool { return r.match.needsIdentity() }

// File is the name the policy was loaded or parsed under.
func (p *Policy) File() string { return p.file }

// Rules are the policy's rules in file order (a copy).
func (p *Policy) Rules() []Rule { return append([]Rule(nil), p.rules...) }

// ExpectRules are the rules that expect facts of targets, in file order.
func (p *Policy) ExpectRules() []Rule {
	return slices.DeleteFunc(p.Rules(), Rule.Forbids)
}

// EventRules are the rules that forbid events, in file order.
func (p *Policy) EventRules() []Rule {
	return slices.DeleteFunc(p.Rules(), func(r Rule) bool { return !r.Forbids() })
}

// Load reads and parses a policy file.
func Load(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading policy: %w", err)
	}
	return Parse(path, data)
}

// Parse parses a policy; name is the file name its errors carry. The
// error is a *Error or, when there are several, an errors.Join of them
// in file order.
func Parse(name string, data []byte) (*Policy, error) {
	if e := scanText(name, data); e != nil {
		return nil, e
	}
	root, e := parseYAML(name, data)
	if e != nil {
		return nil, e
	}
	d := &decoder{file: name}
	p := &Policy{file: name, rules: d.top(root)}
	if err := joinErrors(d.errs); err != nil {
		return nil, err
	}
	return p, nil
}

// parseYAML returns the root node of the one document in data.
func parseYAML(name string, data []byte) (root *yaml.Node, e *Error) {
	defer func() {
		// The YAML parser's own faults on hostile input are still just a
		// file that cannot be read as a policy.
		if r := recover(); r != nil {
			root, e = nil, &Error{File: name, Line: 1, Col: 1, Msg: fmt.Sprintf("invalid YAML: parser failed: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: name, Line: 1, Col: 1, Msg: "empty policy; a policy starts with version: 1 and a list of rules"}
		}
		return nil, syntaxError(name, data, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		return nil, &Error{File: name, Line: next.Line, Col: next.Column, Msg: "a second YAML document; a policy is one document"}
	case !errors.Is(err, io.EOF):
		return nil, syntaxError(name, data, err)
	}
	if len(doc.Content) == 0 {
		return nil, &Error{File: name, Line: 1, Col: 1, Msg: "empty policy; a policy starts with version: 1 and a list of rules"}
	}
	return doc.Content[0], nil
}

var topKeys = []string{"version", "rules"}

func (d *decoder) top(n *yaml.Node) []Rule {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "a policy is a mapping with version and rules, got %s", describe(n))
		return nil
	}
	pairs, _ := d.mapping(n, "the policy", "the top level of the policy", "key", topKeys)
	var version, rules *yaml.Node
	for _, p := range pairs {
		switch p.key {
		case "version":
			version = p.val
		case "rules":
			rules = p.val
		}
	}
	if version == nil {
		d.errorf(n, "missing version; this format is version %d (add version: %d)", Version, Version)
	} else if v := deref(version); v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" {
		d.errorf(v, "version: expected the integer %d, got %s", Version, describe(v))
	} else if got := 0; v.Decode(&got) != nil || got != Version {
		d.errorf(v, "unsupported version %s; this nsinspect reads version %d", v.Value, Version)
	}
	if rules == nil {
		d.errorf(n, "missing rules; a policy needs at least one rule")
		return nil
	}
	return d.rules(rules)
}

func (d *decoder) rules(n *yaml.Node) []Rule {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "rules: expected a list of rules, got %s", describe(n))
		return nil
	}
	if len(n.Content) == 0 {
		d.errorf(n, "rules: empty; a policy needs at least one rule")
		return nil
	}
	var rules []Rule
	first := map[string]*yaml.Node{}
	for i, c := range n.Content {
		r, nameN := d.rule(deref(c), i+1)
		if nameN != nil {
			if f, dup := first[r.name]; dup {
				d.errorf(nameN, "duplicate rule name %q (first at line %d, column %d)", r.name, f.Line, f.Column)
				continue
			}
			first[r.name] = nameN
		}
		rules = append(rules, r)
	}
	return rules
}

var ruleKeys = []string{"name", "description", "match", "expect", "forbid"}

// rule decodes one rule; nameN is its name's node, nil if it has none.
func (d *decoder) rule(n *yaml.Node, index int) (r Rule, nameN *yaml.Node) {
	r.line, r.col = n.Line, n.Column
	ref := fmt.Sprintf("rule #%d", index)
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s: expected a mapping with name, match and expect, got %s", ref, describe(n))
		return r, nil
	}
	// The name first, so that every other error can say which rule.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := deref(n.Content[i]); k.Kind == yaml.ScalarNode && k.Value == "name" {
			v := deref(n.Content[i+1])
			if s, ok := d.str(v, ref+": name"); ok {
				if strings.TrimSpace(s) == "" || strings.ContainsAny(s, "\r\n") {
					d.errorf(v, "%s: name must be one non-blank line", ref)
				} else {
					r.name, nameN = s, v
					ref = fmt.Sprintf("rule %q", s)
				}
			}
			break
		}
	}
	pairs, _ := d.mapping(n, ref, ref, "key", ruleKeys)
	var expect, forbid *yaml.Node
	named := false
	for _, p := range pairs {
		switch p.key {
		case "name":
			named = true
		case "description":
			r.description, _ = d.str(p.val, "description of "+ref)
		case "match":
			r.match = d.match(p.val, ref)
		case "expect":
			expect = p.val
		case "forbid":
			forbid = p.val
		}
	}
	if !named {
		d.errorf(n, "%s has no name", ref)
	}
	switch {
	case expect != nil && forbid != nil:
		d.errorf(deref(forbid), "%s has both expect and forbid; a rule expects facts of targets (audit) or forbids events (watch --policy), so make it two rules", ref)
	case expect != nil:
		r.checks = d.expect(expect, ref)
	case forbid != nil:
		r.forbid = d.forbid(forbid, ref)
	default:
		d.errorf(n, "%s has no expect and no forbid; a rule expects at least one fact or forbids at least one event", ref)
	}
	return r, nameN
}
