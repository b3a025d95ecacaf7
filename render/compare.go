package render

import (
	"fmt"
	"io"

	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/sharing"
	"github.com/nsinspect/nsinspect/verdict"
)

// Compare prints compare's tables, then the kernel witness when it was
// asked for.
func Compare(w io.Writer, c inspect.Compare) error {
	if err := CompareTable(w, c.Report); err != nil {
		return err
	}
	if c.Kernel != nil {
		return kernelWitness(w, c.Kernel)
	}
	return nil
}

// CompareTable prints one row per resource. Notes (why a verdict is
// "?") are footnotes, because one missing privilege repeats the same note
// on many rows.
func CompareTable(w io.Writer, r *sharing.Report) error {
	fmt.Fprintf(w, "A: %s\nB: %s\n", taskLabel(r.A), taskLabel(r.B))
	for _, t := range []struct {
		name string
		task sharing.Task
	}{{"A", r.A}, {"B", r.B}} {
		if len(t.task.OtherNetSockets) > 0 {
			fmt.Fprintf(w, "%s's sockets in other net namespaces: %s\n", t.name, SocketNetText(t.task.OtherNetSockets))
		}
	}
	fmt.Fprintln(w)
	var notes []string
	ref := func(note string) string {
		for i, n := range notes {
			if n == note {
				return fmt.Sprintf(" [%d]", i+1)
			}
		}
		notes = append(notes, note)
		return fmt.Sprintf(" [%d]", len(notes))
	}
	tw := NewTable(w)
	fmt.Fprintln(tw, "RESOURCE\tSHARED\tEVIDENCE")
	for _, res := range r.Resources {
		ev := inspect.OneLine(res.Evidence.String())
		if res.Note != "" {
			ev += ref(inspect.OneLine(res.Note))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", res.Name, yesNo(res.Shared), ev)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for i, n := range notes {
		fmt.Fprintf(w, "[%d] %s\n", i+1, n)
	}
	fmt.Fprintln(w)
	if r.FDError != "" {
		_, err := fmt.Fprintf(w, "fds: not compared: %s\n", inspect.OneLine(r.FDError))
		return err
	}
	tw = NewTable(w)
	fmt.Fprintln(tw, "FD\tSHARED\tA\tB")
	for _, p := range r.FDs {
		b := p.B
		if p.Error != "" {
			b += " (" + inspect.OneLine(p.Error) + ")"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", p.FD, yesNo(p.Shared), p.A, b)
	}
	return tw.Flush()
}

func yesNo(b *bool) string { return verdict.Of(b).YesNo() }

func taskLabel(t sharing.Task) string {
	if t.Container == nil {
		return t.String()
	}
	return t.String() + " in " + inspect.ContainerLabel(t.Container)
}

// Violations prints one line per unmet expectation of compare --expect.
func Violations(w io.Writer, vs []sharing.Violation) {
	for _, v := range vs {
		fmt.Fprintln(w, inspect.OneLine(v.String()))
	}
}

// kernelWitness prints the witness after compare's tables.
func kernelWitness(w io.Writer, k *inspect.CompareKernel) error {
	fmt.Fprintln(w, "\nkernel objects, read with BPF (ids numbered per run: one id, one object), beside kcmp:")
	tw := NewTable(w)
	fmt.Fprintln(tw, "RESOURCE\tFIELD\tA\tB\tBPF\tKCMP")
	for _, v := range k.Resources {
		row := fmt.Sprintf("%s\t%s\t%s\t%s\tbpf: %s\tkcmp: %s", v.Name, v.Field, idText(v.A), idText(v.B), sameWord(v.Same, "both NULL"), sameWord(v.Kcmp, "?"))
		if v.Agrees != nil && !*v.Agrees {
			row += "\t! kcmp and BPF disagree: a task changed between the two reads (run again)"
		}
		fmt.Fprintln(tw, row)
	}
	return tw.Flush()
}

func idText(id uint64) string {
	if id == 0 {
		return "none"
	}
	return fmt.Sprint(id)
}

// sameWord is "same", "different", or unknown for a nil verdict.
func sameWord(b *bool, unknown string) string {
	switch {
	case b == nil:
		return unknown
	case *b:
		return "same"
	}
	return "different"
}
