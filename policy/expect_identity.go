package policy

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/nsinspect/nsinspect/posture"
)

// lsm is lsm: {confined: BOOL, label: GLOB}.
type lsm struct {
	confined *bool
	label    string
}

var lsmKeys = []string{"confined", "label"}

func parseLSM(d *decoder, n *yaml.Node, field string) check {
	pairs, ok := d.mapping(n, field, field, "key", lsmKeys)
	var c lsm
	for _, p := range pairs {
		switch p.key {
		case "confined":
			b, good := d.boolean(p.val, sub(field, "confined"))
			c.confined, ok = &b, ok && good
		case "label":
			var good bool
			c.label, good = d.glob(p.val, sub(field, "label"))
			ok = ok && good
		}
	}
	if ok && c.confined == nil && c.label == "" {
		d.errorf(deref(n), "%s checks nothing; give confined or label", field)
		return nil
	}
	if !ok {
		return nil
	}
	return c
}

func (c lsm) fact() string { return "lsm" }

func (c lsm) expected() string {
	var parts []string
	if c.confined != nil {
		parts = append(parts, map[bool]string{true: "confined", false: "unconfined"}[*c.confined])
	}
	if c.label != "" {
		parts = append(parts, fmt.Sprintf("label %q", c.label))
	}
	return strings.Join(parts, ", ")
}

func (c lsm) eval(_ Target, f *posture.Facts) []Violation {
	got := f.LSM
	var labels []string
	for _, l := range []*string{got.Label, got.AppArmor} {
		if l != nil && !(len(labels) == 1 && labels[0] == *l) {
			labels = append(labels, *l)
		}
	}
	if len(labels) == 0 {
		actual := "has no LSM label"
		if got.Reason != "" {
			actual += " (" + got.Reason + ")"
		}
		if c.confined != nil && !*c.confined && c.label == "" {
			return nil
		}
		return []Violation{{Fact: c.fact(), Expected: c.expected(), Actual: actual, Evidence: got.Evidence}}
	}
	var vs []Violation
	if c.confined != nil {
		why, confined := "", false
		for _, l := range labels {
			w, ok := lsmConfined(l)
			confined = confined || ok
			if why == "" {
				why = w
			}
		}
		if confined != *c.confined {
			actual := fmt.Sprintf("is confined (%s)", quoteAll(labels))
			if !confined {
				actual = fmt.Sprintf("is %s (%s)", why, quoteAll(labels))
			}
			vs = append(vs, Violation{Fact: c.fact(), Expected: c.expected(), Actual: actual, Evidence: got.Evidence})
		}
	}
	if c.label != "" && !matchesAny(c.label, labels) {
		vs = append(vs, Violation{Fact: c.fact(), Expected: c.expected(), Actual: "is labelled " + quoteAll(labels), Evidence: got.Evidence})
	}
	return vs
}

// unconfinedSELinuxTypes are SELinux domains that confine nothing.
var unconfinedSELinuxTypes = map[string]bool{
	"unconfined_t": true, "unconfined_service_t": true, "spc_t": true, "kernel_t": true,
}

// lsmConfined says whether a label confines: not AppArmor's
// "unconfined" nor a profile in complain or unconfined mode, and not an
// SELinux context of an unconfined domain. why says what it is if not.
func lsmConfined(label string) (why string, ok bool) {
	l := strings.TrimSpace(label)
	switch {
	case l == "unconfined":
		return "unconfined", false
	case strings.HasSuffix(l, " (complain)"):
		return "in AppArmor complain mode, which only logs", false
	case strings.HasSuffix(l, " (unconfined)"):
		return "in AppArmor unconfined mode", false
	}
	if parts := strings.Split(l, ":"); len(parts) >= 3 && unconfinedSELinuxTypes[parts[2]] {
		return "in the unconfined SELinux domain " + parts[2], false
	}
	return "", true
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// idMap is uid_map, gid_map or user_mapping (both): not-host-root.
type idMap struct{ maps []string }

var idMapValues = []string{"not-host-root"}

func parseIDMap(d *decoder, n *yaml.Node, field string, maps ...string) check {
	s, ok := d.str(n, field)
	if !ok {
		return nil
	}
	if s != "not-host-root" {
		d.errorf(deref(n), "%s: unknown value %q; known: %s", field, s, strings.Join(idMapValues, ", "))
		return nil
	}
	return idMap{maps}
}

func (c idMap) fact() string {
	if len(c.maps) == 2 {
		return "user_mapping"
	}
	return c.maps[0]
}

func (c idMap) expected() string { return "not-host-root" }

func (c idMap) eval(_ Target, f *posture.Facts) []Violation {
	var vs []Violation
	for _, name := range c.maps {
		m, id := f.UIDMap, "uid"
		if name == "gid_map" {
			m, id = f.GIDMap, "gid"
		}
		switch {
		case m.Err != "":
			vs = append(vs, unread(name, c.expected(), m.Err, m.Evidence...))
		case m.Identity:
			vs = append(vs, Violation{Fact: name, Expected: c.expected(), Evidence: m.Evidence,
				Actual: fmt.Sprintf("is the host's own map (%s): %s 0 is host %s 0, no user namespace", ranges(m.Ranges), id, id)})
		case m.RootIsHostRoot:
			vs = append(vs, Violation{Fact: name, Expected: c.expected(), Evidence: m.Evidence,
				Actual: fmt.Sprintf("maps %s 0 to host %s 0 (%s)", id, id, ranges(m.Ranges))})
		}
	}
	return vs
}

func ranges(rs []posture.IDRange) string {
	if len(rs) == 0 {
		return "no ranges"
	}
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = fmt.Sprintf("%d %d %d", r.Inside, r.Outside, r.Count)
	}
	return strings.Join(s, "; ")
}
