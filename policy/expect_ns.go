package policy

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/nsinspect/nsinspect/posture"
)

// namespaces is namespaces: {separate: [...], shared: [...],
// accept_unproven: BOOL}, against the reference process.
type namespaces struct {
	separate, shared []string
	acceptUnproven   bool
}

var namespacesKeys = []string{"separate", "shared", "accept_unproven"}

func parseNamespaces(d *decoder, n *yaml.Node, field string) check {
	pairs, ok := d.mapping(n, field, field, "key", namespacesKeys)
	var c namespaces
	lists := map[string][]item{}
	for _, p := range pairs {
		var good bool
		if p.key == "accept_unproven" {
			c.acceptUnproven, good = d.boolean(p.val, sub(field, p.key))
		} else {
			// separate or shared: a list of link names.
			lists[p.key], good = d.strs(p.val, sub(field, p.key), false)
			good = good && d.oneOf(lists[p.key], sub(field, p.key), "namespace link", nsLinks)
		}
		ok = ok && good
	}
	sep, sh := lists["separate"], lists["shared"]
	for _, it := range sh {
		if slices.ContainsFunc(sep, func(s item) bool { return s.s == it.s }) {
			d.errorf(it.n, "%s: %q is both separate and shared", field, it.s)
			ok = false
		}
	}
	if ok && len(sep)+len(sh) == 0 {
		d.errorf(deref(n), "%s checks nothing; list link names under separate or shared", field)
		return nil
	}
	if !ok {
		return nil
	}
	c.separate, c.shared = itemStrings(sep), itemStrings(sh)
	return c
}

func (c namespaces) fact() string { return "namespaces" }

func (c namespaces) expected() string {
	var parts []string
	if len(c.separate) > 0 {
		parts = append(parts, "separate "+strings.Join(c.separate, ", "))
	}
	if len(c.shared) > 0 {
		parts = append(parts, "shared "+strings.Join(c.shared, ", "))
	}
	return strings.Join(parts, "; ")
}

func (c namespaces) eval(_ Target, f *posture.Facts) []Violation {
	var vs []Violation
	for _, name := range c.separate {
		if v, bad := c.one(f, name, false); bad {
			vs = append(vs, v)
		}
	}
	for _, name := range c.shared {
		if v, bad := c.one(f, name, true); bad {
			vs = append(vs, v)
		}
	}
	return vs
}

// one checks one link. Without a reference posture can prove sharing
// only for the initial namespaces; an unproven answer is a violation
// either way unless accept_unproven takes posture's guess.
func (c namespaces) one(f *posture.Facts, name string, wantShared bool) (Violation, bool) {
	want := map[bool]string{false: "separate", true: "shared"}[wantShared]
	ns, ok := f.Namespaces[name]
	v := Violation{Fact: "namespaces." + name, Expected: want, Evidence: ns.Evidence}
	switch {
	case !ok:
		v.Actual = "was not reported (does this kernel have /proc/PID/ns/" + name + "?)"
	case ns.Err != "":
		v.Actual = "could not be read: " + ns.Err
	case ns.Shared == wantShared && (ns.Proven || c.acceptUnproven):
		return Violation{}, false
	case ns.Shared != wantShared:
		rel := map[bool]string{false: "separate from", true: "shared with"}[ns.Shared]
		if ns.Proven {
			v.Actual = "is " + rel + " the reference (" + links(ns) + ")"
		} else {
			v.Actual = "is probably " + rel + " the reference (" + links(ns) + ")" + unproven(ns)
		}
	default:
		v.Actual = fmt.Sprintf("is not proven %s (%s)%s", want, links(ns), unproven(ns))
	}
	return v, true
}

func links(ns posture.Namespace) string {
	if ns.Reference == "" || ns.Reference == ns.Target {
		return ns.Target
	}
	return ns.Target + ", reference " + ns.Reference
}

func unproven(ns posture.Namespace) string {
	if ns.Why == "" {
		return "; not proven"
	}
	return "; not proven: " + ns.Why
}

// capabilities is capabilities: {absent: [...], present: [...], sets:
// [...]}; absent may be [ALL]: the sets must be empty.
type capabilities struct {
	absent, present []string
	absentAll       bool
	sets            []string
}

var capabilitiesKeys = []string{"absent", "present", "sets"}

func parseCapabilities(d *decoder, n *yaml.Node, field string) check {
	pairs, ok := d.mapping(n, field, field, "key", capabilitiesKeys)
	c := capabilities{sets: []string{"effective", "bounding"}}
	var absent, present []item
	for _, p := range pairs {
		var good bool
		switch p.key {
		case "absent":
			absent, good = d.strs(p.val, sub(field, "absent"), false)
			c.absent, c.absentAll, good = d.caps(absent, sub(field, "absent"), good, true)
		case "present":
			present, good = d.strs(p.val, sub(field, "present"), false)
			c.present, _, good = d.caps(present, sub(field, "present"), good, false)
		case "sets":
			var sets []item
			sets, good = d.strs(p.val, sub(field, "sets"), false)
			good = good && d.oneOf(sets, sub(field, "sets"), "capability set", capSetNames)
			if good && len(sets) == 0 {
				d.errorf(deref(p.val), "%s: sets is empty; leave it out for effective and bounding", field)
				good = false
			}
			c.sets = itemStrings(sets)
		}
		ok = ok && good
	}
	for i, name := range c.present {
		if slices.Contains(c.absent, name) || c.absentAll {
			d.errorf(present[i].n, "%s: %s is both absent and present", field, name)
			ok = false
		}
	}
	if ok && len(c.absent)+len(c.present) == 0 && !c.absentAll {
		d.errorf(deref(n), "%s checks nothing; list capabilities under absent or present", field)
		return nil
	}
	if !ok {
		return nil
	}
	return c
}

// caps canonicalises capability names; ALL is allowed where all is true.
func (d *decoder) caps(items []item, field string, ok, all bool) (names []string, isAll, good bool) {
	good = ok
	for _, it := range items {
		if all && strings.EqualFold(it.s, "ALL") {
			if len(items) > 1 {
				d.errorf(it.n, "%s: ALL stands alone", field)
				good = false
			}
			isAll = true
			continue
		}
		name, known := capName(it.s)
		switch {
		case !known:
			d.errorf(it.n, "%s: unknown capability %q (capabilities(7) names, with or without CAP_, or CAP_<bit>)", field, it.s)
			good = false
		case slices.Contains(names, name):
			d.errorf(it.n, "%s: %s is listed twice", field, name)
			good = false
		default:
			names = append(names, name)
		}
	}
	return names, isAll, good
}

func (c capabilities) fact() string { return "capabilities" }

func (c capabilities) expected() string {
	var parts []string
	switch {
	case c.absentAll:
		parts = append(parts, "none")
	case len(c.absent) > 0:
		parts = append(parts, "without "+strings.Join(c.absent, ", "))
	}
	if len(c.present) > 0 {
		parts = append(parts, "with "+strings.Join(c.present, ", "))
	}
	return strings.Join(parts, " and ") + " in " + strings.Join(c.sets, ", ")
}

func (c capabilities) eval(_ Target, f *posture.Facts) []Violation {
	got := f.Capabilities
	if got.Err != "" {
		return []Violation{unread(c.fact(), c.expected(), got.Err, got.Evidence...)}
	}
	var vs []Violation
	for _, set := range c.sets {
		have := capSet(got, set)
		fact, ev := "capabilities."+set, evidenceFor(got.Evidence, capSets[set])
		if c.absentAll && len(have) > 0 {
			vs = append(vs, Violation{Fact: fact, Expected: "empty", Actual: "has " + strings.Join(have, ", "), Evidence: ev})
		}
		for _, name := range c.absent {
			if slices.Contains(have, name) {
				vs = append(vs, Violation{Fact: fact, Expected: name + " absent", Actual: "is present", Evidence: ev})
			}
		}
		for _, name := range c.present {
			if !slices.Contains(have, name) {
				vs = append(vs, Violation{Fact: fact, Expected: name + " present", Actual: "is absent", Evidence: ev})
			}
		}
	}
	return vs
}

// capSet is one set with its names made canonical.
func capSet(c posture.Capabilities, set string) []string {
	var raw []string
	switch set {
	case "effective":
		raw = c.Effective
	case "permitted":
		raw = c.Permitted
	case "inheritable":
		raw = c.Inheritable
	case "bounding":
		raw = c.Bounding
	case "ambient":
		raw = c.Ambient
	}
	names := make([]string, 0, len(raw))
	for _, r := range raw {
		if n, ok := capName(r); ok {
			names = append(names, n)
		} else {
			names = append(names, r)
		}
	}
	return names
}
