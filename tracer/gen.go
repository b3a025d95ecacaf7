package tracer

// The object is built by bpf2go from bpf/trace.bpf.c and committed, so that
// `go build` needs no clang. Regenerate with `go generate ./tracer`
// (Debian: clang, llvm, libbpf-dev).

//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -tags linux -target bpfel -type nst_event -type nst_task -type nst_exited trace bpf/trace.bpf.c -- -I./bpf -O2 -g -Wall -Werror
