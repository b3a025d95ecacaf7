package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/clone/flags"
	"github.com/nsinspect/nsinspect/namespaces"
)

func init() {
	register(&cobra.Command{
		Use:   "explain NAME",
		Short: "Explain a clone flag or namespace type",
	}, newExplainCmd)
}

// explanation is one printed entry.
type explanation struct {
	Flag      string              `json:"flag"`
	Namespace string              `json:"namespace,omitempty"` // "net" for CLONE_NEWNET
	Doc       string              `json:"doc"`                 // clone(2)'s words, from flags.Known
	Clone3    bool                `json:"clone3_only"`
	Errnos    []flags.Restriction `json:"errnos"`
	topic
}

func newExplainCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Long: `explain says, for a clone(2) flag or a namespace type, what it isolates or
shares, since which kernel, which /proc files and which ioctls or calls show
it, the errnos it can make clone fail with (from the same table that
explains a refused 'nsinspect clone'), and the nsinspect command that
demonstrates it.

NAME is a flag (CLONE_NEWNET, newnet, files) or a namespace type as lsns
names it (net, mnt, pid, ...). An unknown NAME exits 2 listing the known
ones. Without NAME, every entry is printed.`,
		Example: `  nsinspect explain net
  nsinspect explain CLONE_FILES
  nsinspect explain --json`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			var list []explanation
			if len(args) == 0 {
				for _, t := range topics {
					list = append(list, explain(t))
				}
			} else {
				t, ok := lookupTopic(args[0])
				if !ok {
					return usageErrorf("nothing to explain for %q: known clone flags: %s; namespace types: %s", args[0], strings.Join(topicNames(), ", "), strings.Join(namespaces.TypeNames(), ", "))
				}
				list = append(list, explain(t))
			}
			if asJSON {
				if len(args) == 1 {
					return writeJSON(cmd.OutOrStdout(), list[0])
				}
				return writeJSON(cmd.OutOrStdout(), list)
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
	c.Flags().BoolVar(&asJSON, "json", false, "print the entry as JSON (an array without NAME)")
	return c
}

// lookupTopic accepts a namespace type first ("net", "mnt"), then any
// spelling of a clone flag flags.Parse takes, naming one flag.
func lookupTopic(name string) (topic, bool) {
	if typ, err := namespaces.ParseType(name); err == nil {
		return topicOf(uint64(typ))
	}
	fs, err := flags.Parse(name)
	if err != nil || fs.Count() != 1 {
		return topic{}, false
	}
	return topicOf(uint64(fs))
}

func topicOf(flag uint64) (topic, bool) {
	for _, t := range topics {
		if t.Flag == flag {
			return t, true
		}
	}
	return topic{}, false
}

func topicNames() []string {
	var out []string
	for _, t := range topics {
		out = append(out, flags.Set(t.Flag).String())
	}
	sort.Strings(out)
	return out
}

func explain(t topic) explanation {
	e := explanation{Flag: flags.Set(t.Flag).String(), Errnos: flags.Restrictions(t.Flag), topic: t}
	if e.Errnos == nil {
		e.Errnos = []flags.Restriction{}
	}
	if t.Flag&flags.Namespaces != 0 {
		e.Namespace = namespaces.Type(t.Flag).Name()
	}
	for _, f := range flags.Known {
		if f.Value == t.Flag {
			e.Doc, e.Clone3 = f.Doc, f.Clone3
		}
	}
	return e
}

func renderExplanation(w io.Writer, e explanation) {
	title := e.Flag
	if e.Namespace != "" {
		title += fmt.Sprintf(" (namespace type %q)", e.Namespace)
	}
	fmt.Fprintln(w, title)
	line := func(label, value string) { fmt.Fprintf(w, "  %-17s %s\n", label+":", value) }
	line("clone(2)", e.Doc)
	if e.Namespace != "" {
		line("isolates", e.Isolates)
	} else {
		line("effect", e.Isolates)
	}
	line("since", "Linux "+e.Since)
	line("/proc", strings.Join(e.Proc, ", "))
	line("ioctls and calls", strings.Join(e.Interface, ", "))
	if len(e.Errnos) == 0 {
		line("errnos", "none of its own in clone(2)'s rules")
	}
	for _, r := range e.Errnos {
		line("errno "+r.Errno, r.Why)
	}
	line("demo", e.Demo)
}
