package policy

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/nsinspect/nsinspect/posture"
)

// cgroup is cgroup: {pids_max: LIMIT, memory_max: LIMIT}, where LIMIT is
// "limited" (any value but max) or a number the value must not exceed
// (for memory_max also with a K, M, G or T suffix, binary as in
// memory.max itself).
type cgroup struct{ limits []limit }

type limit struct {
	key    string // pids_max or memory_max
	atMost uint64 // 0: any limit
}

var cgroupKeys = []string{"pids_max", "memory_max"}

// v1Unlimited is where cgroup v1's memory.limit_in_bytes starts meaning
// no limit: it shows PAGE_COUNTER_MAX pages, just under 2^63 bytes.
const v1Unlimited = 1 << 62

func parseCgroup(d *decoder, n *yaml.Node, field string) check {
	pairs, ok := d.mapping(n, field, field, "key", cgroupKeys)
	var c cgroup
	for _, p := range pairs {
		l, good := d.limit(p.val, sub(field, p.key), p.key)
		ok = ok && good
		c.limits = append(c.limits, l)
	}
	if ok && len(c.limits) == 0 {
		d.errorf(deref(n), "%s checks nothing; give pids_max or memory_max", field)
		return nil
	}
	if !ok {
		return nil
	}
	return c
}

func (d *decoder) limit(n *yaml.Node, field, key string) (limit, bool) {
	n = deref(n)
	l := limit{key: key}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" && n.Value == "limited" {
		return l, true
	}
	if n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || (n.ShortTag() == "!!str" && key == "memory_max")) {
		if v, err := parseSize(n.Value, key == "memory_max"); err == nil && v > 0 {
			l.atMost = v
			return l, true
		}
	}
	want := "limited or a positive integer"
	if key == "memory_max" {
		want = "limited or a size in bytes (512M, 2G)"
	}
	d.errorf(n, "%s: expected %s, got %s", field, want, describe(n))
	return l, false
}

// parseSize reads an integer; with units, one with a K, M, G or T
// suffix (binary, with or without a following "i") too.
func parseSize(s string, units bool) (uint64, error) {
	mult := uint64(1)
	if units {
		u := strings.ToUpper(s)
	suffixes:
		for i, unit := range []string{"K", "M", "G", "T"} {
			for _, form := range []string{unit + "I", unit} {
				if strings.HasSuffix(u, form) {
					mult, s = 1<<(10*(i+1)), s[:len(s)-len(form)]
					break suffixes
				}
			}
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, err
	}
	if v > ^uint64(0)/mult {
		return 0, fmt.Errorf("size %q overflows", s)
	}
	return v * mult, nil
}

func (c cgroup) fact() string { return "cgroup" }

func (l limit) expected() string {
	if l.atMost == 0 {
		return "limited"
	}
	return "at most " + strconv.FormatUint(l.atMost, 10)
}

func (c cgroup) expected() string {
	parts := make([]string, len(c.limits))
	for i, l := range c.limits {
		parts[i] = l.key + " " + l.expected()
	}
	return strings.Join(parts, ", ")
}

func (c cgroup) eval(_ Target, f *posture.Facts) []Violation {
	got := f.Cgroup
	if got.Err != "" {
		return []Violation{unread(c.fact(), c.expected(), got.Err, got.Evidence...)}
	}
	var vs []Violation
	for _, l := range c.limits {
		value, files, controller := got.PidsMax, []string{"pids.max"}, "pids"
		if l.key == "memory_max" {
			value, files, controller = got.MemoryMax, []string{"memory.max", "memory.limit_in_bytes"}, "memory"
		}
		v := Violation{Fact: "cgroup." + l.key, Expected: l.expected(), Evidence: evidenceFor(got.Evidence, files...)}
		n, err := strconv.ParseUint(value, 10, 64)
		switch {
		case value == "":
			v.Actual = fmt.Sprintf("is absent (no %s controller for cgroup %s)", controller, got.Path)
		case value == "max":
			v.Actual = "is max (unlimited)"
		case err != nil:
			v.Actual = fmt.Sprintf("is %q, not a number", value)
		case l.key == "memory_max" && n >= v1Unlimited:
			v.Actual = fmt.Sprintf("is %d, cgroup v1's no limit", n)
		case l.atMost != 0 && n > l.atMost:
			v.Actual = fmt.Sprintf("is %d", n)
		default:
			continue
		}
		vs = append(vs, v)
	}
	return vs
}
