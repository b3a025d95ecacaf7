package policy

import (
	"path"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Target is what a rule's match selects on: a container as its engine
// reports it, or a plain process (Engine "host").
type Target struct {
	Engine string // docker, podman, runc, containerd or host
	ID     string
	Name   string
	Image  string
	Labels map[string]string
	PID    int
	// Unidentified says why the engine could not tell who this container
	// is (its socket refused us, it did not answer in time): its Name,
	// Image and Labels are unknown, not empty, and a rule that selects on
	// them cannot be decided for it. "" when the identity is known, or the
	// target is a host process.
	Unidentified string
}

// String names the target for reports: engine/name, else engine/ and the
// short id, else engine/pid-N.
func (t Target) String() string {
	engine := t.Engine
	if engine == "" {
		engine = "unknown"
	}
	switch {
	case t.Name != "":
		return engine + "/" + t.Name
	case t.ID != "":
		return engine + "/" + t.ID[:min(len(t.ID), 12)]
	}
	return engine + "/pid-" + strconv.Itoa(t.PID)
}

// podNamespaceLabel is the label the kubelet puts on a pod's containers.
const podNamespaceLabel = "io.kubernetes.pod.namespace"

// match is a rule's selector; "" (or no labels) matches anything.
type match struct {
	engine, name, image, podNamespace string
	labels                            []labelMatch // by key
}

type labelMatch struct{ key, value string }

// matchResult is a selector against one target: it selects it, it does
// not, or it cannot tell because the target's identity is unknown.
type matchResult int

const (
	noMatch matchResult = iota
	isMatch
	cannotTell
)

// decide is matches made safe for a target whose engine could not be
// asked: the engine (known from the cgroup path) may still rule it out;
// otherwise a selector on the name, image, labels or pod namespace
// cannot tell, and says so rather than "matched nothing".
func (m match) decide(t Target) matchResult {
	if t.Engine == "" {
		// A caller whose container could not be told: only a match on
		// nothing selects it.
		if m.engine == "" && !m.needsIdentity() && len(m.labels) == 0 {
			return isMatch
		}
		return cannotTell
	}
	if !globMatch(m.engine, t.Engine) {
		return noMatch
	}
	if t.Unidentified != "" && m.needsIdentity() {
		return cannotTell
	}
	if m.matches(t) {
		return isMatch
	}
	return noMatch
}

// needsIdentity reports whether the selector reads what only the engine
// knows.
func (m match) needsIdentity() bool {
	return m.name != "" || m.image != "" || m.podNamespace != "" || len(m.labels) > 0
}

func (m match) matches(t Target) bool {
	if !globMatch(m.engine, t.Engine) || !globMatch(m.name, t.Name) || !globMatch(m.image, t.Image) {
		return false
	}
	if m.podNamespace != "" {
		ns, ok := t.Labels[podNamespaceLabel]
		if !ok || !globMatch(m.podNamespace, ns) {
			return false
		}
	}
	for _, l := range m.labels {
		v, ok := t.Labels[l.key]
		if !ok || !globMatch(l.value, v) {
			return false
		}
	}
	return true
}

// globMatch is path.Match on a pattern checked at parse time; "" is any.
func globMatch(pattern, s string) bool {
	if pattern == "" {
		return true
	}
	ok, _ := path.Match(pattern, s)
	return ok
}

var matchKeys = []string{"engine", "name", "image", "labels", "pod_namespace"}

func (d *decoder) match(n *yaml.Node, rule string) match {
	var m match
	pairs, _ := d.mapping(n, "match of "+rule, "match of "+rule, "key", matchKeys)
	for _, p := range pairs {
		field := "match." + p.key + " of " + rule
		switch p.key {
		case "engine":
			s, ok := d.glob(p.val, field)
			if ok && !matchesAny(s, engines) {
				d.errorf(deref(p.val), "%s: %q matches no engine; engines: %s", field, s, strings.Join(engines, ", "))
			}
			m.engine = s
		case "name":
			m.name, _ = d.glob(p.val, field)
		case "image":
			m.image, _ = d.glob(p.val, field)
		case "pod_namespace":
			m.podNamespace, _ = d.glob(p.val, field)
		case "labels":
			m.labels = d.labels(p.val, field)
		}
	}
	return m
}

// labels decodes label: glob pairs. Label values are strings, but an
// unquoted true or 8080 is taken as written rather than refused.
func (d *decoder) labels(n *yaml.Node, field string) []labelMatch {
	pairs, _ := d.mapping(n, field, field, "label", nil)
	var ls []labelMatch
	for _, p := range pairs {
		v := deref(p.val)
		path, ref, _ := strings.Cut(field, " of ")
		lf := path + "[" + strconv.Quote(p.key) + "] of " + ref
		if p.key == "" {
			d.errorf(p.keyN, "%s: empty label name", field)
			continue
		}
		switch {
		case v.Kind != yaml.ScalarNode, isNull(v):
			d.errorf(v, "%s: expected a string, got %s", lf, describe(v))
			continue
		case v.ShortTag() == "!!str", v.ShortTag() == "!!int", v.ShortTag() == "!!bool", v.ShortTag() == "!!float":
		default:
			d.errorf(v, "%s: expected a string, got %s", lf, describe(v))
			continue
		}
		if d.checkGlob(v, lf, v.Value) {
			ls = append(ls, labelMatch{p.key, v.Value})
		}
	}
	sort.Slice(ls, func(i, j int) bool { return ls[i].key < ls[j].key })
	return ls
}

func matchesAny(pattern string, names []string) bool {
	for _, n := range names {
		if globMatch(pattern, n) {
			return true
		}
	}
	return false
}
