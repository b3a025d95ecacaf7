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
// See https://docs.kernel.org/bpf/btf.html for the format.
package kstruct
