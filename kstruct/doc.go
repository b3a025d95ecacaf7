// Package kstruct reads the layout of kernel structs and unions from BTF,
// the kernel's own type information (/sys/kernel/btf/vmlinux, present when
// the kernel was built with CONFIG_DEBUG_INFO_BTF), through cilium/ebpf's
// btf package.
//
// A Layout gives what pahole(1) gives for the same BTF: the size, and for
// every member its C type, byte offset and size; bitfields carry the bit
// position inside their storage unit and their width, as pahole prints
// them ("1188:3"). Offsets of nested members are from the start of the
// outermost struct, so a nested member can be found in memory directly.
//
// It also finds what pahole finds between the members: byte holes and
// bit holes (dwarves.c's class__find_holes, ported), the padding at the
// end, a member's struct type's own padding, and the cache line
// boundaries, counted in the machine's level 1 data cache line as pahole's
// default is (sysfs' cpu0 cache description; 64 bytes when absent). The
// comments and summary lines pahole prints for them are given in its
// words (Layout.Comments, Layout.Summary), except "forced alignments",
// which pahole infers from offsets BTF does not explain.
//
// See https://docs.kernel.org/bpf/btf.html for the format.
package kstruct
