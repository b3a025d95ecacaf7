#!/usr/bin/env bash
# Fails when the committed BPF objects (bpfiter/*_bpfel.{go,o},
# tracer/*_bpfel.{go,o}) are not what `go generate` builds from their
# bpf/*.c: an edit of the C that was not regenerated, or generated Go that
# was edited by hand. clang's output does not depend on the checkout's
# path, so the files must be byte for byte the same. The committed files
# are put back either way.
# Needs clang, llvm (llvm-strip, llvm-objcopy) and libbpf-dev (Debian), as .ci/run installs.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
PKGS="bpfiter tracer"
for tool in clang llvm-strip llvm-objcopy; do
	command -v "$tool" >/dev/null || { echo "bpf-check: $tool not found (apt-get install clang llvm libbpf-dev)" >&2; exit 2; }
done
[ -f /usr/include/bpf/bpf_helpers.h ] || { echo "bpf-check: /usr/include/bpf/bpf_helpers.h not found (apt-get install libbpf-dev)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'for p in $PKGS; do cp "$tmp/$p"/* "$p"/; done; rm -rf "$tmp"' EXIT
fail=0
for p in $PKGS; do
	mkdir "$tmp/$p"
	cp "$p"/*_bpfel.go "$p"/*_bpfel.o "$p"/*_bpfel.o.gz "$tmp/$p"/
	"$GO" generate "./$p"
	for f in "$tmp/$p"/*; do
		name=$p/$(basename "$f")
		cmp -s "$f" "$name" || { echo "bpf-check: $name is stale: run 'go generate ./$p' and commit the result" >&2; fail=1; }
	done
done
[ "$fail" = 0 ] && echo "bpf-check: the committed BPF objects match bpfiter/bpf/*.c and tracer/bpf/*.c ($(clang --version | head -1))"
exit "$fail"
