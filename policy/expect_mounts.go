package policy

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/nsinspect/nsinspect/posture"
)

// paths is masked_paths or readonly_paths: a list of absolute paths,
// each of which posture must report masked (read-only).
type paths struct {
	name  string // masked_paths or readonly_paths
	paths []string
}

func parsePaths(d *decoder, n *yaml.Node, field, name string) check {
	items, ok := d.strs(n, field, false)
	for _, it := range items {
		if !path.IsAbs(it.s) || path.Clean(it.s) != it.s {
			d.errorf(it.n, "%s: %q is not a clean absolute path", field, it.s)
			ok = false
		}
	}
	if ok && len(items) == 0 {
		d.errorf(deref(n), "%s checks nothing; list paths", field)
		return nil
	}
	if !ok {
		return nil
	}
	return paths{name, itemStrings(items)}
}

func (c paths) fact() string { return c.name }

func (c paths) adjective() string {
	if c.name == "masked_paths" {
		return "masked"
	}
	return "read-only"
}

func (c paths) expected() string { return strings.Join(c.paths, ", ") + " " + c.adjective() }

func (c paths) eval(t Target, f *posture.Facts) []Violation {
	got := f.MaskedPaths
	if c.name == "readonly_paths" {
		got = f.ReadonlyPaths
	}
	if got.Err != "" {
		return []Violation{unread(c.name, c.expected(), got.Err, wholeFile(t, "mountinfo")...)}
	}
	var vs []Violation
	for _, want := range c.paths {
		if !slices.ContainsFunc(got.Paths, func(p posture.Path) bool { return path.Clean(p.Path) == want }) {
			vs = append(vs, Violation{Fact: c.name, Expected: want + " " + c.adjective(),
				Actual: "is not " + c.adjective(), Evidence: wholeFile(t, "mountinfo")})
		}
	}
	return vs
}

// sensitiveMounts is sensitive_mounts: none, or {allow: [KIND...],
// allow_read_only: [KIND...]}.
type sensitiveMounts struct {
	allow, allowRO []string
}

var sensitiveKeys = []string{"allow", "allow_read_only"}

func parseSensitiveMounts(d *decoder, n *yaml.Node, field string) check {
	if v := deref(n); v.Kind == yaml.ScalarNode {
		if s, ok := d.str(v, field); ok && s != "none" {
			d.errorf(v, "%s: expected none or {allow: [kinds]}, got %q", field, s)
			return nil
		} else if !ok {
			return nil
		}
		return sensitiveMounts{}
	}
	pairs, ok := d.mapping(n, field, field, "key", sensitiveKeys)
	var c sensitiveMounts
	for _, p := range pairs {
		items, good := d.strs(p.val, sub(field, p.key), false)
		good = good && d.oneOf(items, sub(field, p.key), "sensitive mount kind", mountKinds)
		ok = ok && good
		if p.key == "allow" {
			c.allow = itemStrings(items)
		} else {
			c.allowRO = itemStrings(items)
		}
	}
	if !ok {
		return nil
	}
	return c
}

func (c sensitiveMounts) fact() string { return "sensitive_mounts" }

func (c sensitiveMounts) expected() string {
	var parts []string
	if len(c.allow) > 0 {
		parts = append(parts, strings.Join(c.allow, ", "))
	}
	if len(c.allowRO) > 0 {
		parts = append(parts, strings.Join(c.allowRO, ", ")+" read-only")
	}
	if len(parts) == 0 {
		return "none"
	}
	return "only " + strings.Join(parts, "; ")
}

func (c sensitiveMounts) eval(t Target, f *posture.Facts) []Violation {
	got := f.SensitiveMounts
	if got.Err != "" {
		return []Violation{unread(c.fact(), c.expected(), got.Err, wholeFile(t, "mountinfo")...)}
	}
	var vs []Violation
	for _, m := range got.Mounts {
		if slices.Contains(c.allow, m.Kind) || (!m.ReadWrite && slices.Contains(c.allowRO, m.Kind)) {
			continue
		}
		mode := "read-only"
		if m.ReadWrite {
			mode = "read-write"
		}
		vs = append(vs, Violation{Fact: c.fact(), Expected: c.expected(), Evidence: []posture.Evidence{m.Evidence},
			Actual: fmt.Sprintf("has %s at %s (host %s, %s)", m.Kind, m.Path, m.Source, mode)})
	}
	return vs
}

// devices is devices: none, or {allow: [GLOB...]}: every device node
// under the target's /dev must match one glob.
type devices struct{ allow []string }

var devicesKeys = []string{"allow"}

func parseDevices(d *decoder, n *yaml.Node, field string) check {
	if v := deref(n); v.Kind == yaml.ScalarNode {
		if s, ok := d.str(v, field); ok && s != "none" {
			d.errorf(v, "%s: expected none or {allow: [globs]}, got %q", field, s)
			return nil
		} else if !ok {
			return nil
		}
		return devices{}
	}
	pairs, ok := d.mapping(n, field, field, "key", devicesKeys)
	var c devices
	for _, p := range pairs {
		items, good := d.strs(p.val, sub(field, "allow"), false)
		for _, it := range items {
			good = d.checkGlob(it.n, sub(field, "allow"), it.s) && good
		}
		ok = ok && good
		c.allow = itemStrings(items)
	}
	if !ok {
		return nil
	}
	return c
}

func (c devices) fact() string { return "devices" }

func (c devices) expected() string {
	if len(c.allow) == 0 {
		return "no device nodes"
	}
	return "only " + strings.Join(c.allow, ", ")
}

func (c devices) eval(_ Target, f *posture.Facts) []Violation {
	got := f.Devices
	if got.Err != "" {
		return []Violation{unread(c.fact(), c.expected(), got.Err, got.Evidence...)}
	}
	var vs []Violation
	for _, dev := range got.Nodes {
		if anyGlob(c.allow, dev.Path) {
			continue
		}
		vs = append(vs, Violation{Fact: c.fact(), Expected: c.expected(), Evidence: evidenceFor(got.Evidence, dev.Path),
			Actual: fmt.Sprintf("has %s %d:%d %s", dev.Type, dev.Major, dev.Minor, dev.Path)})
	}
	return vs
}

func anyGlob(patterns []string, s string) bool {
	for _, p := range patterns {
		if globMatch(p, s) {
			return true
		}
	}
	return false
}
