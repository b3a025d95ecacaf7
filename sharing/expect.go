package sharing

import (
	"errors"
	"fmt"
	"strings"
)

// ErrBadExpect matches every error about a malformed expectation list.
var ErrBadExpect = errors.New("bad expectation")

// Expectation is one "name=shared" or "name=separate" item.
type Expectation struct {
	Resource string
	Shared   bool
}

func (e Expectation) String() string { return e.Resource + "=" + verdict(&e.Shared) }

// synonyms are words people reach for; they are refused, but the error
// names the accepted word so the fix is obvious.
var synonyms = map[string]string{
	"shared": "shared", "separate": "separate", // in another case
	"same": "shared", "yes": "shared", "true": "shared", "share": "shared", "equal": "shared",
	"different": "separate", "no": "separate", "false": "separate", "separated": "separate",
	"unshared": "separate", "new": "separate", "distinct": "separate",
}

// ParseExpect parses a comma-separated list such as
// "net=separate,files=shared". Resource names are those of ResourceNames;
// values are exactly "shared" or "separate". An empty list, an empty item,
// an unknown name or value, or a resource named twice is an error matching
// ErrBadExpect that says what is wrong and what is valid.
func ParseExpect(s string) ([]Expectation, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("%w: empty list (want NAME=shared|separate,... with NAME one of %s)", ErrBadExpect, strings.Join(ResourceNames(), ", "))
	}
	valid := make(map[string]bool)
	for _, n := range ResourceNames() {
		valid[n] = true
	}
	var out []Expectation
	seen := make(map[string]string)
	for i, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, fmt.Errorf("%w: item %d is empty (a stray comma?) in %q", ErrBadExpect, i+1, s)
		}
		name, val, ok := strings.Cut(item, "=")
		name, val = strings.TrimSpace(name), strings.TrimSpace(val)
		if !ok || name == "" || val == "" {
			return nil, fmt.Errorf("%w: %q is not NAME=shared or NAME=separate", ErrBadExpect, item)
		}
		if !valid[name] {
			return nil, fmt.Errorf("%w: unknown resource %q in %q (valid: %s)", ErrBadExpect, name, item, strings.Join(ResourceNames(), ", "))
		}
		if prev, dup := seen[name]; dup {
			return nil, fmt.Errorf("%w: %s is given twice (%q and %q)", ErrBadExpect, name, prev, item)
		}
		seen[name] = item
		var shared bool
		switch val {
		case "shared":
			shared = true
		case "separate":
		default:
			if want, ok := synonyms[strings.ToLower(val)]; ok {
				return nil, fmt.Errorf("%w: value %q in %q: write %q (values: shared, separate)", ErrBadExpect, val, item, want)
			}
			return nil, fmt.Errorf("%w: value %q in %q is neither shared nor separate", ErrBadExpect, val, item)
		}
		out = append(out, Expectation{Resource: name, Shared: shared})
	}
	return out, nil
}

// Violation is an expectation the report does not meet.
type Violation struct {
	Expectation
	Got      *bool // nil: indeterminate
	Evidence string
	Note     string
	Refused  bool // indeterminate because the kernel refused the read
}

// String is one line: "net: expected separate, got shared (ids 3 == 3 ...)".
func (v Violation) String() string {
	s := fmt.Sprintf("%s: expected %s, got %s", v.Resource, verdict(&v.Shared), verdict(v.Got))
	detail := v.Evidence
	if v.Got == nil && v.Note != "" {
		if detail != "" {
			detail += "; "
		}
		detail += v.Note
	}
	if detail != "" {
		s += " (" + detail + ")"
	}
	return s
}

// Check returns the expectations r does not meet, in the order given. An
// indeterminate verdict meets no expectation.
func (r *Report) Check(exp []Expectation) []Violation {
	var out []Violation
	for _, e := range exp {
		res, ok := r.Resource(e.Resource)
		if ok && res.Shared != nil && *res.Shared == e.Shared {
			continue
		}
		out = append(out, Violation{Expectation: e, Got: res.Shared, Evidence: res.Evidence.String(), Note: res.Note, Refused: res.Refused})
	}
	return out
}
