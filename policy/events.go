package policy

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	nsnames "github.com/nsinspect/nsinspect/namespaces"
)

// Event is what an event rule sees of one clone, unshare or setns call
// (a trace event; package inspect makes it from the kernel's record).
type Event struct {
	// Kind is "fork" (clone, clone3, fork, vfork), "unshare" or "setns".
	Kind string
	// Failed is a call that returned an error.
	Failed bool
	// Types are, for a call that returned, the namespace types it
	// changed (a fork whose child is in another namespace of the type
	// than its caller, an unshare or setns that replaced one: the
	// ..._for_children links count as their type); for a failed call,
	// the types it asked for (CLONE_NEW* flags, setns's nstype or its
	// namespace file's type).
	Types []string
	// IntoHost are the types in which a setns put the caller into one of
	// the host's namespaces that it was not in before, or, for a failed
	// setns, whose host namespace its namespace file named.
	IntoHost []string
	// HostUnknown says why the host's namespaces could not be read; ""
	// when they were. A pattern with into: host cannot be decided then.
	HostUnknown string
	// What is the event in one phrase, for the violation's line.
	What string
}

// eventKinds are the values of an event pattern's event key.
var eventKinds = []string{"fork", "unshare", "setns"}

// eventResults are the values of an event pattern's result key.
var eventResults = []string{"ok", "failed", "any"}

// pattern is one entry of a rule's forbid: the events it forbids.
type pattern struct {
	event  string   // one of eventKinds
	types  []string // namespace types; none: any
	host   bool     // into: host
	result string   // one of eventResults
	text   string   // the pattern as the violation line shows it
}

var patternKeys = []string{"event", "types", "into", "result"}

// forbid decodes a rule's forbid: a list of event patterns, at least
// one. Each pattern's keys must all hold for an event to match it.
func (d *decoder) forbid(n *yaml.Node, ref string) []pattern {
	n = deref(n)
	field := "forbid of " + ref
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "%s: expected a list of event patterns ({event: setns, into: host}), got %s", field, describe(n))
		return nil
	}
	if len(n.Content) == 0 {
		d.errorf(n, "%s is empty; a rule forbids at least one event pattern", field)
		return nil
	}
	var out []pattern
	for i, c := range n.Content {
		if p, ok := d.pattern(deref(c), fmt.Sprintf("forbid[%d] of %s", i, ref)); ok {
			out = append(out, p)
		}
	}
	return out
}

func (d *decoder) pattern(n *yaml.Node, field string) (pattern, bool) {
	p := pattern{result: "ok"}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s: expected a mapping with event and optionally types, into and result, got %s", field, describe(n))
		return p, false
	}
	pairs, ok := d.mapping(n, field, field, "key", patternKeys)
	var intoN *yaml.Node
	for _, kv := range pairs {
		sub := kv.key + " of " + field
		switch kv.key {
		case "event":
			s, good := d.str(kv.val, sub)
			if good && !slices.Contains(eventKinds, s) {
				d.errorf(deref(kv.val), "%s: unknown event %q; events: %s", sub, s, strings.Join(eventKinds, ", "))
				good = false
			}
			p.event, ok = s, ok && good
		case "types":
			items, good := d.strs(kv.val, sub, true)
			if good && len(items) == 0 {
				d.errorf(deref(kv.val), "%s is empty; leave types out to mean any type", sub)
				good = false
			}
			good = good && d.oneOf(items, sub, "namespace type", nsnames.TypeNames())
			p.types, ok = itemStrings(items), ok && good
		case "into":
			s, good := d.str(kv.val, sub)
			if good && s != "host" {
				d.errorf(deref(kv.val), "%s: %q; the one value is host (one of the host's namespaces, kthreadd's)", sub, s)
				good = false
			}
			p.host, intoN, ok = good, kv.val, ok && good
		case "result":
			s, good := d.str(kv.val, sub)
			if good && !slices.Contains(eventResults, s) {
				d.errorf(deref(kv.val), "%s: unknown result %q; results: %s", sub, s, strings.Join(eventResults, ", "))
				good = false
			}
			if good {
				p.result = s
			}
			ok = ok && good
		}
	}
	if p.event == "" {
		if ok {
			d.errorf(n, "%s has no event; event is one of %s", field, strings.Join(eventKinds, ", "))
		}
		return p, false
	}
	if p.host && p.event != "setns" {
		d.errorf(deref(intoN), "%s: into: host is a setns's; a %s makes namespaces, it enters none", field, p.event)
		return p, false
	}
	p.text = p.String()
	return p, ok
}

// String is the pattern as a policy would write it.
func (p pattern) String() string {
	parts := []string{"event: " + p.event}
	if len(p.types) > 0 {
		parts = append(parts, "types: ["+strings.Join(p.types, ", ")+"]")
	}
	if p.host {
		parts = append(parts, "into: host")
	}
	if p.result != "ok" {
		parts = append(parts, "result: "+p.result)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// decide is whether e is an event the pattern forbids; cannotTell where
// into: host needs the host's namespaces and they are unknown.
func (p pattern) decide(e Event) matchResult {
	if p.event != e.Kind {
		return noMatch
	}
	switch {
	case p.result == "ok" && e.Failed, p.result == "failed" && !e.Failed:
		return noMatch
	}
	if len(p.types) > 0 && !slices.ContainsFunc(p.types, func(t string) bool { return slices.Contains(e.Types, t) }) {
		return noMatch
	}
	if !p.host {
		return isMatch
	}
	if e.HostUnknown != "" {
		return cannotTell
	}
	for _, t := range e.IntoHost {
		if len(p.types) == 0 || slices.Contains(p.types, t) {
			return isMatch
		}
	}
	return noMatch
}

// EventViolation is an event that an event rule forbids, or that it
// cannot decide for the event's caller.
type EventViolation struct {
	Rule    string `json:"rule"`
	Target  Target `json:"-"`
	Caller  string `json:"target"`  // Target.String()
	Pattern string `json:"pattern"` // the pattern of forbid that matched
	What    string `json:"event"`   // the event, one phrase
	// Undecided says why the rule could not be decided for this event:
	// its match selects on what the caller's unknown identity would
	// tell, or its pattern on the host's unknown namespaces. "" for a
	// violation.
	Undecided string `json:"undecided,omitempty"`
}

// String is the violation as one line.
func (v EventViolation) String() string {
	if v.Undecided != "" {
		return fmt.Sprintf("rule %q undecided for %s: %s; it forbids %s, but %s", v.Rule, v.Caller, v.What, v.Pattern, v.Undecided)
	}
	return fmt.Sprintf("rule %q violated by %s: %s; it forbids %s", v.Rule, v.Caller, v.What, v.Pattern)
}

// CheckEvent runs the event rules on one event of a caller t, in file
// order, and returns the violations and the undecided, at most one per
// rule: its first pattern that matches for sure, else its first that
// cannot be decided. A target with no Engine is a caller whose container
// could not be told (Unidentified says why): a rule whose match selects
// on anything cannot be decided for it.
func (p *Policy) CheckEvent(t Target, e Event) []EventViolation {
	var out []EventViolation
	for _, r := range p.rules {
		if !r.Forbids() {
			continue
		}
		who := r.match.decide(t)
		if who == noMatch {
			continue
		}
		var found *EventViolation
		for _, pat := range r.forbid {
			what := pat.decide(e)
			if what == noMatch {
				continue
			}
			v := EventViolation{Rule: r.name, Target: t, Caller: t.String(), Pattern: pat.text, What: e.What}
			switch {
			case who == cannotTell:
				v.Undecided = "its match selects on what is unknown of the caller: " + t.Unidentified
			case what == cannotTell:
				v.Undecided = "into: host needs the host's namespaces, which are unknown: " + e.HostUnknown
			}
			if found == nil || found.Undecided != "" && v.Undecided == "" {
				found = &v
			}
		}
		if found != nil {
			out = append(out, *found)
		}
	}
	return out
}
