package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/kstruct"
	"github.com/nsinspect/nsinspect/schema"
)

func init() {
	register(&cobra.Command{
		Use:   "struct NAME",
		Short: "Show a kernel struct's layout from the kernel's own BTF",
	}, newStructCmd)
}

func newStructCmd() *cobra.Command {
	var (
		asJSON    bool
		btfPath   string
		depth     int
		cacheline uint32
	)
	c := &cobra.Command{
		Long: `struct shows the layout of a kernel struct or union as the running kernel
was built: its size and every member's C type, byte offset and size, from
the kernel's BTF (` + kstruct.KernelBTF + `, CONFIG_DEBUG_INFO_BTF) or from
--btf FILE (a raw BTF blob or a vmlinux ELF with a .BTF section).

Bitfields show as OFFSET:BIT, the bit position inside the storage unit at
OFFSET, and NAME:WIDTH, as pahole(1) prints them. Anonymous structs and
unions are expanded as pahole does; --depth N expands N levels of members
of any struct or union type, named ones included (--depth 0: top level
only). Offsets of nested members count from the start of NAME.

Between the members it shows what pahole(1) shows, in its words: byte
holes and bit holes after a member, the padding at the end of a member's
struct type, cache line boundaries; after them pahole's summary: size,
cache lines, members, the sums of members and holes, padding, the bytes
in the last cache line. Cache lines are the machine's level 1 data cache
line, as pahole's default (64 bytes when sysfs does not say), or
--cacheline BYTES.

--json prints {"name", "kind", "size", "members": [{"name", "type",
"offset", "size", "bit_offset", "bit_size", "hole", "bit_hole",
"padding", "cacheline", "members", "pre_hole", "pre_bit_hole"}],
"cacheline_size", "cachelines", "last_cacheline", "sum_members",
"sum_bitfield_members", "holes", "sum_holes", "bit_holes",
"sum_bit_holes", "pre_hole", "pre_bit_hole", "padding", "bit_padding",
"paddings", "sum_paddings"}. Sizes and offsets are in bytes; bit_*,
sum_bit_holes and sum_bitfield_members in bits. bit_offset and bit_size
are only on bitfields, members only on expanded ones. A member's hole
and bit_hole follow it; its padding is its struct type's; cacheline N
marks the member before which pahole prints "cacheline N boundary".
holes, bit_holes and paddings count, sum_* add up.

An unknown NAME exits 2 with the closest names in the BTF.`,
		Example: `  nsinspect struct nsproxy
  nsinspect struct thread_info --json
  nsinspect struct task_struct --depth 1
  nsinspect struct files_struct --cacheline 128
  nsinspect struct mm_struct --btf /boot/vmlinux-6.18`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if depth < kstruct.AnonymousOnly {
				return usageErrorf("bad --depth %d: want 0 or more levels, or -1 (the default) for anonymous structs and unions only", depth)
			}
			if cmd.Flags().Changed("cacheline") && (cacheline == 0 || cacheline&(cacheline-1) != 0) {
				return usageErrorf("bad --cacheline %d: want a power of two in bytes, such as 64 or 128", cacheline)
			}
			spec, err := loadBTF(btfPath)
			if err != nil {
				return err
			}
			spec.CachelineSize = cacheline
			l, err := spec.Layout(args[0], depth)
			if err != nil {
				var nf *kstruct.NotFoundError
				if errors.As(err, &nf) {
					msg := fmt.Sprintf("no struct or union %q in the BTF of %s", nf.Name, spec.Path)
					if len(nf.Closest) > 0 {
						msg += "; closest: " + strings.Join(nf.Closest, ", ")
					}
					return usageErrorf("%s", msg)
				}
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), structJSON{Layout: l})
			}
			return renderLayout(cmd.OutOrStdout(), l, spec.Path)
		},
	}
	f := c.Flags()
	f.BoolVar(&asJSON, "json", false, "print the layout as JSON")
	f.StringVar(&btfPath, "btf", "", "read BTF from `FILE` instead of "+kstruct.KernelBTF)
	f.IntVar(&depth, "depth", kstruct.AnonymousOnly, "expand `N` levels of struct/union members, named types included (-1: anonymous ones only, as pahole)")
	f.Uint32Var(&cacheline, "cacheline", 0, "count cache lines of `BYTES` (default: the machine's level 1 data cache line, as pahole)")
	return c
}

// structJSON is `struct --json`: the layout, after the contract's
// version.
type structJSON struct {
	SchemaVersion schema.Version `json:"schema_version"`
	*kstruct.Layout
}

// loadBTF maps BTF loading failures to exit codes: a bad --btf file is bad
// input (2); a kernel without BTF, or a file nsinspect may not read, is a
// missing feature or privilege (4).
func loadBTF(path string) (*kstruct.Spec, error) {
	spec, err := kstruct.Load(path)
	if err == nil {
		return spec, nil
	}
	switch {
	case path == "" && errors.Is(err, os.ErrNotExist):
		return nil, privilegeErrorf("the running kernel exposes no BTF at %s (it needs CONFIG_DEBUG_INFO_BTF=y): pass --btf FILE with a vmlinux that carries BTF", kstruct.KernelBTF)
	case errors.Is(err, os.ErrPermission):
		return nil, privilegeErrorf("cannot read BTF: %v: run as a user who may read it (root)", err)
	case errors.Is(err, os.ErrNotExist):
		return nil, usageErrorf("cannot read --btf %s: no such file: give a raw BTF file such as %s or a vmlinux ELF with a .BTF section", path, kstruct.KernelBTF)
	case errors.Is(err, kstruct.ErrNoBTF) && path != "":
		return nil, usageErrorf("--btf %s holds no BTF nsinspect can read (%v): give a raw BTF file such as %s or a vmlinux ELF with a .BTF section", path, err, kstruct.KernelBTF)
	}
	return nil, fmt.Errorf("reading BTF: %w", err)
}

// renderLayout prints the members as a table, pahole's comments as rows
// of their own in the MEMBER column, and pahole's summary after it.
func renderLayout(w io.Writer, l *kstruct.Layout, from string) error {
	fmt.Fprintf(w, "%s %s: %d bytes (BTF: %s; %d-byte cache lines)\n", l.Kind, l.Name, l.Size, from, l.CachelineSize)
	tw := newTable(w)
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
