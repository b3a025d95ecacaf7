#!/usr/bin/env bash
# Fails when the committed BPF objects (bpfiter/*_bpfel.{go,o}) are not
# what `go generate ./bpfiter` builds from bpfiter/bpf/*.c: an edit of the
# C that was not regenerated, or generated Go that was edited by hand.
# clang's output does not depend on the checkout's path, so the files must
# be byte for byte the same. The committed files are put back either way.
# Needs clang, llvm (llvm-strip) and libbpf-dev (Debian), as .ci/run installs.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
for tool in clang llvm-strip; do
	command -v "$tool" >/dev/null || { echo "bpf-check: $tool not found (apt-get install clang llvm libbpf-dev)" >&2; exit 2; }
done
[ -f /usr/include/bpf/bpf_helpers.h ] || { echo "bpf-check: /usr/include/bpf/bpf_helpers.h not found (apt-get install libbpf-dev)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'cp "$tmp"/* bpfiter/; rm -rf "$tmp"' EXIT
cp bpfiter/*_bpfel.go bpfiter/*_bpfel.o "$tmp"/
"$GO" generate ./bpfiter
fail=0
for f in "$tmp"/*; do
	name=bpfiter/$(basename "$f")
	cmp -s "$f" "$name" || { echo "bpf-check: $name is stale: run 'go generate ./bpfiter' and commit the result" >&2; fail=1; }
done
[ "$fail" = 0 ] && echo "bpf-check: the committed BPF objects match bpfiter/bpf/*.c ($(clang --version | head -1))"
exit "$fail"
