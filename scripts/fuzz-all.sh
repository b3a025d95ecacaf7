#!/usr/bin/env bash
# Runs every `go test -fuzz` target in the module, each for $1 inputs
# (-fuzztime; default 200000x, a few seconds). CI runs that size; run
# `scripts/fuzz-all.sh 20000000x` for the full size. See the Makefile for
# why a count rather than a duration.
set -euo pipefail
fuzztime=${1:-200000x}
cd "$(dirname "$0")/.."
found=0
while IFS= read -r file; do
	pkg=./$(dirname "$file")
	for target in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/'); do
		found=$((found + 1))
		echo "fuzz: $pkg $target for $fuzztime"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"
	done
done < <(git ls-files '*_test.go' | xargs grep -l '^func Fuzz' 2>/dev/null || true)
echo "fuzz: ran $found targets"
