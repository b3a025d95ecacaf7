package main

import (
	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/kstruct"
	"github.com/nsinspect/nsinspect/render"
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
			if cmd.Flags().Changed("cacheline") && (cacheline == 0 || cacheline&(cacheline-1) != 0) {
				return usageErrorf("bad --cacheline %d: want a power of two in bytes, such as 64 or 128", cacheline)
			}
			out, err := inspect.StructLayout(args[0], btfPath, depth, cacheline)
			if err != nil {
				return err
			}
			return write(cmd.OutOrStdout(), asJSON, out, render.Struct)
		},
	}
	f := c.Flags()
	f.BoolVar(&asJSON, "json", false, "print the layout as JSON")
	f.StringVar(&btfPath, "btf", "", "read BTF from `FILE` instead of "+kstruct.KernelBTF)
	f.IntVar(&depth, "depth", kstruct.AnonymousOnly, "expand `N` levels of struct/union members, named types included (-1: anonymous ones only, as pahole)")
	f.Uint32Var(&cacheline, "cacheline", 0, "count cache lines of `BYTES` (default: the machine's level 1 data cache line, as pahole)")
	return c
}
