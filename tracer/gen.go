package tracer

import _ "embed"

// The object is built by bpf2go from bpf/trace.bpf.c and committed, so that
// `go build` needs no clang. Regenerate with `go generate ./tracer`
// (Debian: clang, llvm, libbpf-dev).

// The .BTF.ext section's relocations (.rel.BTF.ext, a third of the object)
// serve only a static linker: cilium/ebpf reads func and line info and CO-RE
// relocations from .BTF.ext itself, so they are dropped to keep the image
// small (llvm-objcopy, from Debian's llvm).

//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -tags linux -target bpfel -type nst_event -type nst_task -type nst_exited -type nst_inum_freed trace bpf/trace.bpf.c -- -I./bpf -I../bpf/include -O2 -g -Wall -Werror
//go:generate llvm-objcopy --remove-section=.rel.BTF.ext trace_bpfel.o

// The line info (and the source lines it names), which only the
// verifier's log uses, is blanked: about 40 % of the compressed object
// (internal/cmd/striplines).

//go:generate go run ../internal/cmd/striplines trace_bpfel.o

// What is embedded is the object gzip-compressed (bpfload.Object): a
// quarter of its size. bpf2go's loadTrace, which embeds the object as it
// is, is called by no code of the binary, so the linker drops it.

//go:generate gzip -9 -n -k -f trace_bpfel.o

//go:embed trace_bpfel.o.gz
var traceObject []byte
