package inspect

import (
	"sort"
	"strings"

	"github.com/nsinspect/nsinspect/clone/flags"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/schema"
)

// Explanation is one printed entry: an entry of clone/flags' table, the
// one `nsinspect clone` parses with.
type Explanation struct {
	Flag      string              `json:"flag"`
	Namespace string              `json:"namespace,omitempty"` // "net" for CLONE_NEWNET
	Link      string              `json:"link,omitempty"`      // "pid_for_children" when asked for that link
	Doc       string              `json:"doc"`                 // clone(2)'s words
	Clone3    bool                `json:"clone3_only"`
	Errnos    []flags.Restriction `json:"errnos"`
	Effect    string              `json:"isolates_or_shares"`
	Since     string              `json:"since"`
	Proc      []string            `json:"proc"`
	Calls     []string            `json:"ioctls_and_calls"`
	Demo      string              `json:"demo,omitempty"`
	// ForChildren is what /proc/PID/ns/{pid,time}_for_children shows.
	ForChildren string `json:"for_children,omitempty"`
	// LeftOut says why experiments do not run the flag.
	LeftOut string `json:"left_out,omitempty"`
}

// Explanations is `explain --json`: the one entry asked for, or every
// entry.
type Explanations struct {
	SchemaVersion schema.Version `json:"schema_version"`
	Explanations  []Explanation  `json:"explanations"`
}

// lookupExplanation accepts a namespace type first ("net", "mnt"), then a
// /proc/PID/ns link whose name is not its type's (pid_for_children), then
// any name flags.Lookup takes.
func lookupExplanation(name string) (Explanation, bool) {
	if typ, err := namespaces.ParseType(name); err == nil {
		f, ok := flags.Lookup(typ.String())
		return explainFlag(f, ""), ok
	}
	for _, l := range namespaces.Links {
		if l.Name == name && l.Name != l.Type.Name() {
			f, ok := flags.Lookup(l.Type.String())
			return explainFlag(f, l.Name), ok
		}
	}
	f, ok := flags.Lookup(name)
	return explainFlag(f, ""), ok
}

// flagNames are the names of the table's flags, sorted.
func flagNames() []string {
	var out []string
	for _, f := range flags.All() {
		out = append(out, f.Name)
	}
	sort.Strings(out)
	return out
}

// explainFlag is f's entry; link names the /proc/PID/ns link it was asked
// for, if any.
func explainFlag(f flags.Flag, link string) Explanation {
	e := Explanation{
		Flag: f.Name, Link: link, Doc: f.Doc, Clone3: f.Clone3, Errnos: flags.Restrictions(f.Value),
		Effect: f.Effect, Since: f.Since, Proc: f.Proc, Calls: f.Calls, Demo: f.Demo,
		ForChildren: f.ForChildren, LeftOut: f.LeftOut,
	}
	if e.Errnos == nil {
		e.Errnos = []flags.Restriction{}
	}
	if e.Proc == nil {
		e.Proc = []string{}
	}
	if f.Value&flags.Namespaces != 0 && f.Value != flags.ExitSignal.Value {
		e.Namespace = namespaces.Type(f.Value).Name()
	}
	return e
}

// Explain is `explain NAME`: the entry for name, or every entry when name
// is empty; an unknown name is bad input listing the known ones.
func Explain(name string) (Explanations, error) {
	var list []Explanation
	if name == "" {
		for _, f := range flags.All() {
			list = append(list, explainFlag(f, ""))
		}
		return Explanations{Explanations: list}, nil
	}
	e, ok := lookupExplanation(name)
	if !ok {
		return Explanations{}, BadInputf("nothing to explain for %q: known clone flags: %s; namespace types: %s; links: pid_for_children, time_for_children; the exit signal: CSIGNAL or SIGCHLD", name, strings.Join(flagNames(), ", "), strings.Join(namespaces.TypeNames(), ", "))
	}
	return Explanations{Explanations: append(list, e)}, nil
}
