package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/nsinspect/nsinspect/clone/flags"
	"github.com/nsinspect/nsinspect/inspect"
)

// Explanations prints explain's entries, a blank line between two.
func Explanations(out io.Writer, x inspect.Explanations) error {
	return paragraphs(out, x.Explanations, explanation).err
}

func explanation(w io.Writer, e inspect.Explanation) {
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
