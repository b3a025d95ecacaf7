package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/clone/flags"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/schema"
)

func init() {
	register(&cobra.Command{
		Use:   "explain NAME",
		Short: "Explain a clone flag or namespace type",
	}, newExplainCmd)
}

// explanation is one printed entry: an entry of clone/flags' table, the
// one `nsinspect clone` parses with.
type explanation struct {
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

// explainJSON is `explain --json`: the one entry asked for, or every
// entry.
type explainJSON struct {
	SchemaVersion schema.Version `json:"schema_version"`
	Explanations  []explanation  `json:"explanations"`
}

func newExplainCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Long: `explain says, for a clone(2) flag or a namespace type, what it isolates or
shares, since which kernel, which /proc files and which ioctls or calls show
it, the errnos it can make clone fail with (from the same table that
explains a refused 'nsinspect clone'), and the nsinspect command that
demonstrates it.

NAME is a flag (CLONE_NEWNET, newnet, files), a namespace type as lsns
names it (net, mnt, pid, ...), a /proc/PID/ns link (pid_for_children,
time_for_children), the exit signal (CSIGNAL, or a signal such as SIGCHLD),
or a flag nsinspect's experiments leave out (CLONE_SETTLS,
CLONE_PARENT_SETTID, CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID,
CLONE_PTRACE, CLONE_UNTRACED, CLONE_DETACHED), with why. An unknown NAME
exits 2 listing the known ones. Without NAME, every entry is printed.`,
		Example: `  nsinspect explain net
  nsinspect explain CLONE_FILES
  nsinspect explain pid_for_children
  nsinspect explain CLONE_SETTLS
  nsinspect explain --json`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			var list []explanation
			if len(args) == 0 {
				for _, f := range flags.All() {
					list = append(list, explain(f, ""))
				}
			} else {
				e, ok := lookupExplanation(args[0])
				if !ok {
					return usageErrorf("nothing to explain for %q: known clone flags: %s; namespace types: %s; links: pid_for_children, time_for_children; the exit signal: CSIGNAL or SIGCHLD", args[0], strings.Join(flagNames(), ", "), strings.Join(namespaces.TypeNames(), ", "))
				}
				list = append(list, e)
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), explainJSON{Explanations: list})
			}
			for i, e := range list {
				if i > 0 {
					fmt.Fprintln(cmd.OutOrStdout())
				}
				renderExplanation(cmd.OutOrStdout(), e)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, `print {"schema_version", "explanations": [...]}: the entry, or every entry without NAME`)
	return c
}

// lookupExplanation accepts a namespace type first ("net", "mnt"), then a
// /proc/PID/ns link whose name is not its type's (pid_for_children), then
// any name flags.Lookup takes.
func lookupExplanation(name string) (explanation, bool) {
	if typ, err := namespaces.ParseType(name); err == nil {
		f, ok := flags.Lookup(typ.String())
		return explain(f, ""), ok
	}
	for _, l := range namespaces.Links {
		if l.Name == name && l.Name != l.Type.Name() {
			f, ok := flags.Lookup(l.Type.String())
			return explain(f, l.Name), ok
		}
	}
	f, ok := flags.Lookup(name)
	return explain(f, ""), ok
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

// explain is f's entry; link names the /proc/PID/ns link it was asked
// for, if any.
func explain(f flags.Flag, link string) explanation {
	e := explanation{
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

func renderExplanation(w io.Writer, e explanation) {
	title := e.Flag
	switch {
	case e.Link != "":
		title = fmt.Sprintf("%s (a /proc/PID/ns link of namespace type %q, %s)", e.Link, e.Namespace, e.Flag)
	case e.Namespace != "":
		title += fmt.Sprintf(" (namespace type %q)", e.Namespace)
	case e.Flag == flags.ExitSignal.Name:
		title += " (the exit signal, e.g. SIGCHLD: not a flag)"
	case e.LeftOut != "":
		title += " (not run by nsinspect's experiments)"
	}
	fmt.Fprintln(w, title)
	line := func(label, value string) { fmt.Fprintf(w, "  %-17s %s\n", label+":", value) }
	if e.Link != "" && e.ForChildren != "" {
		line(e.Link, e.ForChildren)
	}
	line("clone(2)", e.Doc)
	if e.Namespace != "" {
		line("isolates", e.Effect)
	} else {
		line("effect", e.Effect)
	}
	if e.Link == "" && e.ForChildren != "" {
		line(e.Namespace+"_for_children", e.ForChildren)
	}
	line("since", "Linux "+e.Since)
	if len(e.Proc) > 0 {
		line("/proc", strings.Join(e.Proc, ", "))
	}
	line("ioctls and calls", strings.Join(e.Calls, ", "))
	if len(e.Errnos) == 0 {
		line("errnos", "none of its own in clone(2)'s rules")
	}
	for _, r := range e.Errnos {
		line("errno "+r.Errno, r.Why)
	}
	if e.LeftOut != "" {
		line("left out", "nsinspect clone refuses it (exit 2): "+e.LeftOut)
	}
	if e.Demo != "" {
		line("demo", e.Demo)
	}
}
