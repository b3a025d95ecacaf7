// Command striplines blanks the line info of BPF objects that bpf2go
// built, in place, so that their gzip-compressed copies embedded in
// nsinspect are smaller: about 40 % of each object's compressed size is
// the line info (.BTF.ext's line_info records, 16 bytes per instruction
// line) and the source lines they name (strings of .BTF). Only the
// verifier's log uses them, to print source next to instructions; the
// programs, their BTF types, func info and CO-RE relocations are kept as
// they are.
//
// It runs from the packages' go:generate lines, after llvm-objcopy:
//
//	go run ../internal/cmd/striplines trace_bpfel.o
//
// One line record per function is kept, the one at its first
// instruction: once a program has any line info the kernel wants a record
// at the start of each of its functions ("missing bpf_line_info for
// func#N"), and cilium/ebpf adds records of its own (comments it attaches
// to instructions). The kept records move to the front of the line_info
// subsection, whose length shrinks to them; the rest of it, and every
// string only a dropped record named, become zero bytes, which gzip
// shrinks to nearly nothing. The file keeps its size and layout: no
// other offset in it moves. No library does this: cilium/ebpf reads BTF and
// writes none, and llvm-objcopy removes whole sections only.
package main
