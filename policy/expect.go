package policy

import (
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/nsinspect/nsinspect/posture"
)

// factNames are the keys of expect: posture.FactNames, and user_mapping
// for uid_map and gid_map at once.
var factNames = []string{
	"namespaces", "capabilities", "no_new_privs", "seccomp", "lsm",
	"user_mapping", "uid_map", "gid_map", "masked_paths", "readonly_paths",
	"sensitive_mounts", "devices", "cgroup",
}

type factParser func(d *decoder, n *yaml.Node, field string) check

// factParsers decode each fact's expectation; field is, e.g.,
// `expect.seccomp of rule "x"`.
var factParsers = map[string]factParser{
	"namespaces":   parseNamespaces,
	"capabilities": parseCapabilities,
	"no_new_privs": parseNoNewPrivs,
	"seccomp":      parseSeccomp,
	"lsm":          parseLSM,
	"user_mapping": func(d *decoder, n *yaml.Node, field string) check {
		return parseIDMap(d, n, field, "uid_map", "gid_map")
	},
	"uid_map": func(d *decoder, n *yaml.Node, field string) check {
		return parseIDMap(d, n, field, "uid_map")
	},
	"gid_map": func(d *decoder, n *yaml.Node, field string) check {
		return parseIDMap(d, n, field, "gid_map")
	},
	"masked_paths": func(d *decoder, n *yaml.Node, field string) check {
		return parsePaths(d, n, field, "masked_paths")
	},
	"readonly_paths": func(d *decoder, n *yaml.Node, field string) check {
		return parsePaths(d, n, field, "readonly_paths")
	},
	"sensitive_mounts": parseSensitiveMounts,
	"devices":          parseDevices,
	"cgroup":           parseCgroup,
}

// expect decodes a rule's expectations in file order. A rule that
// expects nothing would pass everything, so it is an error.
func (d *decoder) expect(n *yaml.Node, ref string) []check {
	pairs, ok := d.mapping(n, "expect of "+ref, ref, "fact", factNames)
	if ok && len(pairs) == 0 {
		d.errorf(deref(n), "expect of %s is empty; a rule expects at least one fact", ref)
	}
	var checks []check
	for _, p := range pairs {
		if c := factParsers[p.key](d, p.val, "expect."+p.key+" of "+ref); c != nil {
			checks = append(checks, c)
		}
	}
	return checks
}

// oneOf checks that each item is in known, naming what was expected.
func (d *decoder) oneOf(items []item, field, noun string, known []string) bool {
	ok := true
	for _, it := range items {
		if !slices.Contains(known, it.s) {
			d.errorf(it.n, "%s: unknown %s %q; known: %s", field, noun, it.s, strings.Join(known, ", "))
			ok = false
		}
	}
	return ok
}

func itemStrings(items []item) []string {
	s := make([]string, len(items))
	for i, it := range items {
		s[i] = it.s
	}
	return s
}

// noNewPrivs is no_new_privs: true|false.
type noNewPrivs struct{ want bool }

func parseNoNewPrivs(d *decoder, n *yaml.Node, field string) check {
	b, ok := d.boolean(n, field)
	if !ok {
		return nil
	}
	return noNewPrivs{b}
}

func (c noNewPrivs) fact() string { return "no_new_privs" }

func (c noNewPrivs) expected() string { return boolString(c.want) }

func (c noNewPrivs) eval(_ Target, f *posture.Facts) []Violation {
	got := f.NoNewPrivs
	switch {
	case got.Err != "":
		return []Violation{unread(c.fact(), c.expected(), got.Err, got.Evidence...)}
	case got.Value != c.want:
		return []Violation{{Fact: c.fact(), Expected: c.expected(), Actual: "is " + boolString(got.Value), Evidence: got.Evidence}}
	}
	return nil
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// seccomp is seccomp: MODE or a list of modes, any of which passes.
type seccomp struct{ modes []string }

func parseSeccomp(d *decoder, n *yaml.Node, field string) check {
	items, ok := d.strs(n, field, true)
	if !ok || !d.oneOf(items, field, "seccomp mode", seccompModes) {
		return nil
	}
	if len(items) == 0 {
		d.errorf(deref(n), "%s: expected a mode or a list of modes (%s)", field, strings.Join(seccompModes, ", "))
		return nil
	}
	return seccomp{itemStrings(items)}
}

func (c seccomp) fact() string { return "seccomp" }

func (c seccomp) expected() string { return strings.Join(c.modes, " or ") }

func (c seccomp) eval(_ Target, f *posture.Facts) []Violation {
	got := f.Seccomp
	switch {
	case got.Err != "":
		return []Violation{unread(c.fact(), c.expected(), got.Err, got.Evidence...)}
	case got.Mode == "":
		return []Violation{{Fact: c.fact(), Expected: c.expected(), Actual: "was not reported", Evidence: got.Evidence}}
	case !slices.Contains(c.modes, got.Mode):
		return []Violation{{Fact: c.fact(), Expected: c.expected(), Actual: "is " + got.Mode, Evidence: got.Evidence}}
	}
	return nil
}
