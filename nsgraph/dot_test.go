package nsgraph

import (
	"fmt"
	"strings"
	"testing"
	"unicode"
)

// parsed is what parseDOT read back: nodes by id with their attributes,
// and edges in order.
type parsed struct {
	name  string
	nodes map[string]map[string]string
	order []string
	edges []parsedEdge
}

type parsedEdge struct {
	from, to string
	attrs    map[string]string
}

// parseDOT parses the subset of DOT that WriteDOT emits: one digraph of
// graph attributes, default node/edge attributes, node statements and
// edge statements, every statement ended by ';'. A node defined twice is
// an error: the graph must name each process and namespace once.
func parseDOT(src string) (*parsed, error) {
	toks, err := tokenize(src)
	if err != nil {
		return nil, err
	}
	p := &parsed{nodes: map[string]map[string]string{}}
	i := 0
	next := func() (tok, error) {
		if i >= len(toks) {
			return tok{}, fmt.Errorf("unexpected end")
		}
		i++
		return toks[i-1], nil
	}
	expect := func(s string) error {
		t, err := next()
		if err != nil {
			return err
		}
		if t.quoted || t.s != s {
			return fmt.Errorf("want %q, got %q", s, t.s)
		}
		return nil
	}
	if err := expect("digraph"); err != nil {
		return nil, err
	}
	name, err := next()
	if err != nil {
		return nil, err
	}
	p.name = name.s
	if err := expect("{"); err != nil {
		return nil, err
	}
	attrs := func() (map[string]string, error) {
		m := map[string]string{}
		if err := expect("["); err != nil {
			return nil, err
		}
		for {
			k, err := next()
			if err != nil {
				return nil, err
			}
			if !k.quoted && k.s == "]" {
				return m, nil
			}
			if err := expect("="); err != nil {
				return nil, err
			}
			v, err := next()
			if err != nil {
				return nil, err
			}
			m[k.s] = v.s
			if i < len(toks) && !toks[i].quoted && toks[i].s == "," {
				i++
			}
		}
	}
	for {
		t, err := next()
		if err != nil {
			return nil, err
		}
		if !t.quoted && t.s == "}" {
			if i != len(toks) {
				return nil, fmt.Errorf("text after the closing brace")
			}
			return p, nil
		}
		if i >= len(toks) {
			return nil, fmt.Errorf("unexpected end after %q", t.s)
		}
		switch op := toks[i]; {
		case !op.quoted && op.s == "=": // graph attribute
			i++
			if _, err := next(); err != nil {
				return nil, err
			}
		case !t.quoted && (t.s == "node" || t.s == "edge"):
			if _, err := attrs(); err != nil {
				return nil, err
			}
		case !op.quoted && op.s == "->":
			i++
			to, err := next()
			if err != nil {
				return nil, err
			}
			a, err := attrs()
			if err != nil {
				return nil, err
			}
			p.edges = append(p.edges, parsedEdge{t.s, to.s, a})
		default:
			a, err := attrs()
			if err != nil {
				return nil, err
			}
			if _, dup := p.nodes[t.s]; dup {
				return nil, fmt.Errorf("node %q defined twice", t.s)
			}
			p.nodes[t.s] = a
			p.order = append(p.order, t.s)
		}
		if err := expect(";"); err != nil {
			return nil, err
		}
	}
}

type tok struct {
	s      string
	quoted bool
}

func tokenize(src string) ([]tok, error) {
	var out []tok
	r := []rune(src)
	for i := 0; i < len(r); {
		c := r[i]
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '"':
			var b strings.Builder
			i++
			for ; i < len(r) && r[i] != '"'; i++ {
				if r[i] == '\\' && i+1 < len(r) {
					i++
					switch r[i] {
					case 'n':
						b.WriteRune('\n')
					default: // \" and \\ stand for themselves
						b.WriteRune(r[i])
					}
					continue
				}
				b.WriteRune(r[i])
			}
			if i >= len(r) {
				return nil, fmt.Errorf("unterminated string")
			}
			i++
			out = append(out, tok{b.String(), true})
		case c == '-' && i+1 < len(r) && r[i+1] == '>':
			out = append(out, tok{"->", false})
			i += 2
		case strings.ContainsRune("{}[]=,;", c):
			out = append(out, tok{string(c), false})
			i++
		case unicode.IsLetter(c) || unicode.IsDigit(c) || c == '_':
			j := i
			for j < len(r) && (unicode.IsLetter(r[j]) || unicode.IsDigit(r[j]) || r[j] == '_') {
				j++
			}
			out = append(out, tok{string(r[i:j]), false})
			i = j
		default:
			return nil, fmt.Errorf("unexpected %q at %d", c, i)
		}
	}
	return out, nil
}

// FuzzQuote writes a node labelled with arbitrary text (a comm can hold
// any byte but NUL) and reads it back: the quoting must keep the DOT valid
// and the label intact.
func FuzzQuote(f *testing.F) {
	for _, s := range []string{"sleep", `a"b`, `back\slash`, `\N`, "two\nlines", "kworker/u8:1+netns", `"`, `\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, label string) {
		if strings.ContainsAny(label, "\x00\r") || !utf8Valid(label) {
			return
		}
		g := newGraph("fuzz")
		g.node("n1", label, nil)
		g.edge("n1", "n1", label, nil)
		var b strings.Builder
		if err := g.WriteDOT(&b); err != nil {
			t.Fatal(err)
		}
		p, err := parseDOT(b.String())
		if err != nil {
			t.Fatalf("%v in\n%s", err, b.String())
		}
		if got := p.nodes["n1"]["label"]; got != label {
			t.Fatalf("label %q read back as %q", label, got)
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
