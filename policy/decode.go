package policy

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decoder walks a yaml.Node tree against the format, collecting every
// error it finds rather than stopping at the first.
type decoder struct {
	file string
	errs []*Error
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf(format, args...)})
}

// deref follows an alias to its anchored node. Anchors precede their
// aliases, so the tree is acyclic; the bound is for safety only.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; i < 8 && n.Kind == yaml.AliasNode && n.Alias != nil; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names what a node is, for "expected X, got Y".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return fmt.Sprintf("the string %q", n.Value)
		case "!!int":
			return "the integer " + n.Value
		case "!!float":
			return "the number " + n.Value
		case "!!bool":
			return "the boolean " + n.Value
		case "!!null":
			return "nothing (null)"
		}
		return fmt.Sprintf("a value tagged %s", n.ShortTag())
	}
	return "an unexpected YAML node"
}

type pair struct {
	key  string
	keyN *yaml.Node
	val  *yaml.Node
}

// mapping returns the pairs of a mapping node in file order, reporting
// keys that are not strings, duplicated, or not in known (where, e.g.
// `match of rule "x"`, and noun, "key" or "fact", name the place). A
// null node is an empty mapping.
func (d *decoder) mapping(n *yaml.Node, field, where, noun string, known []string) ([]pair, bool) {
	n = deref(n)
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s: expected a mapping, got %s", field, describe(n))
		return nil, false
	}
	var pairs []pair
	seen := map[string]*yaml.Node{}
	ok := true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
			d.errorf(k, "%s: keys must be plain strings (merge keys << are not supported), got %s", field, describe(k))
			ok = false
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.errorf(k, "duplicate %s %q in %s (first at line %d, column %d)", noun, k.Value, where, first.Line, first.Column)
			ok = false
			continue
		}
		seen[k.Value] = k
		if known != nil && !slices.Contains(known, k.Value) {
			d.errorf(k, "unknown %s %q in %s; known %ss: %s", noun, k.Value, where, noun, strings.Join(known, ", "))
			ok = false
			continue
		}
		pairs = append(pairs, pair{k.Value, k, v})
	}
	return pairs, ok
}

// sub names a key under field: sub(`expect.lsm of rule "x"`, "label")
// is `expect.lsm.label of rule "x"`.
func sub(field, key string) string {
	path, ref, _ := strings.Cut(field, " of ")
	return path + "." + key + " of " + ref
}

func (d *decoder) str(n *yaml.Node, field string) (string, bool) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		d.errorf(n, "%s: expected a string, got %s", field, describe(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) boolean(n *yaml.Node, field string) (bool, bool) {
	n = deref(n)
	var b bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		d.errorf(n, "%s: expected true or false, got %s", field, describe(n))
		return false, false
	}
	return b, true
}

// item is one string of a list, with its node for errors about it.
type item struct {
	s string
	n *yaml.Node
}

// strs decodes a list of strings; with single, a lone string stands for
// a list of one. A null node is an empty list.
func (d *decoder) strs(n *yaml.Node, field string, single bool) ([]item, bool) {
	n = deref(n)
	if isNull(n) {
		return nil, true
	}
	if single && n.Kind == yaml.ScalarNode {
		s, ok := d.str(n, field)
		return []item{{s, n}}, ok
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "%s: expected a list of strings, got %s", field, describe(n))
		return nil, false
	}
	items := make([]item, 0, len(n.Content))
	ok := true
	seen := map[string]bool{}
	for _, c := range n.Content {
		c = deref(c)
		s, good := d.str(c, field+" entry")
		if !good {
			ok = false
			continue
		}
		if seen[s] {
			d.errorf(c, "%s: %q is listed twice", field, s)
			ok = false
			continue
		}
		seen[s] = true
		items = append(items, item{s, c})
	}
	return items, ok
}

// glob checks a path.Match pattern. An empty pattern matches only the
// empty string, which is never what was meant.
func (d *decoder) glob(n *yaml.Node, field string) (string, bool) {
	s, ok := d.str(n, field)
	if !ok {
		return "", false
	}
	return s, d.checkGlob(deref(n), field, s)
}

func (d *decoder) checkGlob(n *yaml.Node, field, s string) bool {
	if s == "" {
		d.errorf(n, "%s: empty pattern; leave the key out to match anything", field)
		return false
	}
	if _, err := path.Match(s, ""); err != nil {
		d.errorf(n, "%s: bad glob %q: %v (path.Match syntax: * ? [a-z] \\)", field, s, err)
		return false
	}
	return true
}
