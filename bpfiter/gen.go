package bpfiter

// The objects are built by bpf2go from bpf/*.bpf.c and committed, so that
// `go build` needs no clang. Regenerate with `go generate ./bpfiter`
// (Debian: clang, llvm, libbpf-dev); `make bpf-check` (run by `make
// test`) regenerates and fails when the committed files are stale.

//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -tags linux -target bpfel -type nsi_task -type nsi_ns -type nsi_fd tasks bpf/tasks.bpf.c -- -I./bpf -O2 -g -Wall -Werror
//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -tags linux -target bpfel -type nsi_walk -type nsi_walkend -type nsi_walkcfg fdwalk bpf/fdwalk.bpf.c -- -I./bpf -O2 -g -Wall -Werror
