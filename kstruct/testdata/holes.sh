#!/bin/sh
# Regenerates holes.btf (the BTF of holes.c) and pahole/NAME.txt (what
# pahole prints for each struct of it, with 64-byte cache lines) for
# kstruct's tests. Needs gcc and pahole (Debian's dwarves).
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gcc -g -O0 -c holes.c -o "$tmp/holes.o"
pahole --btf_encode_detached=holes.btf "$tmp/holes.o"
rm -f pahole/*.txt
for s in $(sed -n 's/^struct \([a-z_]*\) {$/\1/p' holes.c); do
	pahole -F btf --cacheline_size=64 -C "$s" holes.btf >"pahole/$s.txt"
done
