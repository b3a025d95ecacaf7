package render

import (
	"fmt"
	"io"

	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/kstruct"
)

// Struct prints a layout as pahole(1) would: the members as a table,
// pahole's comments as rows of their own in the MEMBER column, and
// pahole's summary after it.
func Struct(w io.Writer, s inspect.Struct) error { return layout(w, s.Layout, s.From) }

func layout(w io.Writer, l *kstruct.Layout, from string) error {
	fmt.Fprintf(w, "%s %s: %d bytes (BTF: %s; %d-byte cache lines)\n", l.Kind, l.Name, l.Size, from, l.CachelineSize)
	tw := NewTable(w)
	fmt.Fprintln(tw, "OFFSET\tSIZE\tTYPE\tMEMBER")
	comment := func(indent string, lines []string) {
		for _, c := range lines {
			fmt.Fprintf(tw, "\t\t\t%s%s\n", indent, c)
		}
	}
	var rows func(ms []kstruct.Member, indent string)
	rows = func(ms []kstruct.Member, indent string) {
		for i := range ms {
			m := &ms[i]
			c := l.Comments(m)
			comment(indent, c.Before)
			off := fmt.Sprint(m.Offset)
			name := m.Name
			if name == "" {
				name = "(anonymous)"
			}
			if m.BitOffset != nil {
				off += fmt.Sprintf(":%d", *m.BitOffset)
				name += fmt.Sprintf(":%d", *m.BitSize)
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s%s\n", off, m.Size, m.Type, indent, name)
			comment(indent+"  ", c.First)
			rows(m.Members, indent+"  ")
			comment(indent, c.After)
		}
	}
	comment("", l.Leading())
	rows(l.Members, "")
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range l.Summary() {
		fmt.Fprintln(w, s)
	}
	return nil
}
