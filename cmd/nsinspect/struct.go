package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/kstruct"
)

func init() {
	register(&cobra.Command{
		Use:   "struct NAME",
		Short: "Show a kernel struct's layout from the kernel's own BTF",
	}, newStructCmd)
}

func newStructCmd() *cobra.Command {
	var (
		asJSON  bool
		btfPath string
		depth   int
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

--json prints {"name", "kind", "size", "members": [{"name", "type",
"offset", "size", "bit_offset", "bit_size", "members"}]}, sizes and offsets
in bytes; bit_offset and bit_size only for bitfields, members only for
expanded ones.

An unknown NAME exits 2 with the closest names in the BTF.`,
		Example: `  nsinspect struct nsproxy
  nsinspect struct thread_info --json
  nsinspect struct task_struct --depth 1
  nsinspect struct mm_struct --btf /boot/vmlinux-6.18`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if depth < kstruct.AnonymousOnly {
				return usageErrorf("bad --depth %d: want 0 or more levels, or -1 (the default) for anonymous structs and unions only", depth)
			}
			spec, err := loadBTF(btfPath)
			if err != nil {
				return err
			}
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
				return writeJSON(cmd.OutOrStdout(), l)
			}
			return renderLayout(cmd.OutOrStdout(), l, spec.Path)
		},
	}
	f := c.Flags()
	f.BoolVar(&asJSON, "json", false, "print the layout as JSON")
	f.StringVar(&btfPath, "btf", "", "read BTF from `FILE` instead of "+kstruct.KernelBTF)
	f.IntVar(&depth, "depth", kstruct.AnonymousOnly, "expand `N` levels of struct/union members, named types included (-1: anonymous ones only, as pahole)")
	return c
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

func renderLayout(w io.Writer, l *kstruct.Layout, from string) error {
	fmt.Fprintf(w, "%s %s: %d bytes (BTF: %s)\n", l.Kind, l.Name, l.Size, from)
	tw := newTable(w)
	fmt.Fprintln(tw, "OFFSET\tSIZE\tTYPE\tMEMBER")
	var rows func(ms []kstruct.Member, indent string)
	rows = func(ms []kstruct.Member, indent string) {
		for _, m := range ms {
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
			rows(m.Members, indent+"  ")
		}
	}
	rows(l.Members, "")
	return tw.Flush()
}
