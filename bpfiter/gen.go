package bpfiter

import _ "embed"

// The objects are built by bpf2go from bpf/*.bpf.c and committed, so that
// `go build` needs no clang. Regenerate with `go generate ./bpfiter`
// (Debian: clang, llvm, libbpf-dev); `make bpf-check` (run by `make
// test`) regenerates and fails when the committed files are stale.

// The .BTF.ext section's relocations (.rel.BTF.ext, a third of the object)
// serve only a static linker: cilium/ebpf reads func and line info and CO-RE
// relocations from .BTF.ext itself, so they are dropped to keep the image
// small (llvm-objcopy, from Debian's llvm).

//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -tags linux -target bpfel -type nsi_task -type nsi_ns -type nsi_fd tasks bpf/tasks.bpf.c -- -I./bpf -I../bpf/include -O2 -g -Wall -Werror
//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -tags linux -target bpfel -type nsi_walk -type nsi_walkend -type nsi_walkcfg fdwalk bpf/fdwalk.bpf.c -- -I./bpf -I../bpf/include -O2 -g -Wall -Werror
//go:generate llvm-objcopy --remove-section=.rel.BTF.ext tasks_bpfel.o
//go:generate llvm-objcopy --remove-section=.rel.BTF.ext fdwalk_bpfel.o

// The line info (and the source lines it names), which only the
// verifier's log uses, is blanked: about 40 % of the compressed object
// (internal/cmd/striplines).

//go:generate go run ../internal/cmd/striplines tasks_bpfel.o
//go:generate go run ../internal/cmd/striplines fdwalk_bpfel.o

// What is embedded are the objects gzip-compressed (bpfload.Object): a
// quarter of their size. bpf2go's loadTasks and loadFdwalk, which embed
// the objects as they are, are called by no code of the binary, so the
// linker drops them.

//go:generate gzip -9 -n -k -f tasks_bpfel.o
//go:generate gzip -9 -n -k -f fdwalk_bpfel.o

//go:embed tasks_bpfel.o.gz
var tasksObject []byte

//go:embed fdwalk_bpfel.o.gz
var fdwalkObject []byte
