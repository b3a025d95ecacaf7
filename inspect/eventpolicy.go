package inspect

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/policy"
	"github.com/nsinspect/nsinspect/tracer"
)

// EventChecker checks events against a policy's event rules (forbid):
// watch --policy prints what it finds, serve --events counts it. The
// host's namespaces, which into: host compares with, are read once
// (HostNamespaces); where they cannot be, such patterns are undecided,
// never passed.
type EventChecker struct {
	pol     *policy.Policy
	host    []namespaces.NS
	hostErr string
}

// NewEventChecker checks events against pol, which must have at least
// one event rule (bad input otherwise: the file is an audit policy).
func NewEventChecker(pol *policy.Policy) (*EventChecker, error) {
	if len(pol.EventRules()) == 0 {
		return nil, BadInputf("policy %s has no event rules (forbid:); its rules expect facts, which audit --policy checks", pol.File())
	}
	c := &EventChecker{pol: pol}
	host, err := HostNamespaces()
	if err != nil {
		c.hostErr = OneLine(err.Error())
	} else {
		c.host = host
	}
	return c, nil
}

// Check gives the event rules that e violates, or that cannot be decided
// for it, in file order; nil for the end line.
func (c *EventChecker) Check(e *TraceEvent) []policy.EventViolation {
	if e.raw == nil || e.Caller == nil {
		return nil
	}
	return c.pol.CheckEvent(callerTarget(e), c.event(e))
}

// callerTarget is the event's caller as a rule's match selects it: its
// container (callerContainers), a host process, or, where its container
// could not be told, a target with no engine.
func callerTarget(e *TraceEvent) policy.Target {
	w := e.callerWho
	t := policy.Target{PID: e.Caller.PID}
	switch {
	case w.unknown != "":
		t.Unidentified = w.unknown
	case w.m != nil:
		t.Engine, t.ID, t.Name, t.Image, t.Labels = w.m.Engine, w.m.ID, w.m.Name, w.m.Image, w.m.Labels
		t.Unidentified = w.identErr
	default:
		t.Engine = "host"
	}
	return t
}

// event is what a rule sees of e.
func (c *EventChecker) event(e *TraceEvent) policy.Event {
	r := e.raw
	pe := policy.Event{Kind: e.Event, Failed: r.Errno != 0, HostUnknown: c.hostErr, What: eventPhrase(e)}
	if !pe.Failed {
		for _, t := range ChangedTypes(e) {
			pe.Types = append(pe.Types, t.Name())
		}
	} else {
		asked := namespaces.Type(r.Flags)
		if r.Kind == tracer.Setns && r.FDKind == tracer.FDNSFS {
			asked |= r.FDType
		}
		for _, t := range namespaces.Types {
			if asked&t != 0 {
				pe.Types = append(pe.Types, t.Name())
			}
		}
	}
	if r.Kind != tracer.Setns || c.host == nil {
		return pe
	}
	add := func(t namespaces.Type) {
		if n := t.Name(); !slices.Contains(pe.IntoHost, n) {
			pe.IntoHost = append(pe.IntoHost, n)
		}
	}
	if pe.Failed {
		if l := namespaces.LinkIndex(r.FDType.Name()); r.FDKind == tracer.FDNSFS && l >= 0 && c.host[l].Ino == r.FDNS.Ino {
			add(r.FDType)
		}
		return pe
	}
	for i, l := range namespaces.Links {
		if a, b := r.A.NS[i].Ino, r.B.NS[i].Ino; a != b && b != 0 && b == c.host[i].Ino {
			add(l.Type)
		}
	}
	return pe
}

// eventPhrase is e in one phrase: "setns fd 3 into net:[4026531840] by
// sh[4242/4242]", "unshare CLONE_NEWUSER = EPERM by ...".
func eventPhrase(e *TraceEvent) string {
	r := e.raw
	var b strings.Builder
	b.WriteString(e.Event)
	if e.Syscall != "" {
		b.WriteString(" (" + e.Syscall + ")")
	}
	if len(e.Flags) > 0 {
		b.WriteString(" " + strings.Join(e.Flags, "|"))
	}
	if r.Kind == tracer.Setns {
		fmt.Fprintf(&b, " fd %d", r.FD)
		switch r.FDKind {
		case tracer.FDNSFS:
			fmt.Fprintf(&b, " = %s:[%d]", r.FDType.Name(), r.FDNS.Ino)
		case tracer.FDOther:
			if r.Target > 0 {
				fmt.Fprintf(&b, " = pidfd of %d", r.Target)
			}
		}
	}
	if e.Child != nil {
		fmt.Fprintf(&b, " -> [%d/%d]", e.Child.PID, e.Child.TID)
	}
	if e.Errno != "" {
		b.WriteString(" = " + e.Errno)
	}
	fmt.Fprintf(&b, " by %s[%d/%d]", e.Caller.Comm, e.Caller.PID, e.Caller.TID)
	return b.String()
}

// PolicyOutcome is watch --policy's verdict from its end line: nil when
// no rule was violated or undecided (or there was no policy), an
// assertion error when rules were violated, undecided when any rule
// could not be decided (also with violations: both are on stderr).
func PolicyOutcome(file string, end *TraceEnd) error {
	switch {
	case file == "" || end.Violations == 0 && end.Undecided == 0:
		return nil
	case end.Undecided > 0:
		return Undecidedf(nil, "watch --policy %s: %d events could not be decided by its rules (and %d violated them); each is a line above", file, end.Undecided, end.Violations)
	}
	return Assertionf("watch --policy %s: %d events violated its rules; each is a line above", file, end.Violations)
}
