#!/usr/bin/env bash
# The experiment's speed against a C program, in one run (issue 14).
#
# bench/cref/cref.c is the per-machine reference: a fresh process making
# the clone3 call with every namespace flag, the six kcmp calls and the
# twenty namespace stats, then killing and reaping its child. Every target
# is a ratio to it, or to an empty Go program, measured alternately with
# nsinspect by bench/cmdbench in this run:
#
#   one experiment   nsinspect clone --json --identity <all 8 ns flags>,
#                    in a lab                           <= 3x cref
#   start-up         nsinspect --help                   <= 1.5x an empty Go program
#   matrix           nsinspect matrix, per accepted experiment
#                                                       <= 1x cref (a whole process)
#   matrix --all     per experiment (with --all only)   <= 10x the default matrix's
#
# util-linux (`unshare -f <same flags> true`), --host and the floor of a
# Go binary with cgo (an empty one, against an empty Go program and
# against cref) are shown beside them, with no target.
#
# usage: bench/clone-vs-unshare.sh [--ci] [--all] [RUNS]
#   RUNS: runs of each one-process workload (default 200; --ci 30); the
#   matrix runs RUNS/20 times (at least 3). --all adds one run of
#   `matrix --all` (16,383 flag sets: minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=200
all=no
while [ $# -gt 0 ]; do
	case "$1" in
	--ci) runs=30; shift ;;
	--all) all=yes; shift ;;
	*) runs=$1; shift ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "clone-vs-unshare: run as root (the lab's namespaces need CAP_SYS_ADMIN)" >&2; exit 2; }
command -v unshare >/dev/null || { echo "clone-vs-unshare: unshare not found (apt-get install util-linux)" >&2; exit 2; }
command -v cc >/dev/null || { echo "clone-vs-unshare: no C compiler for bench/cref (apt-get install gcc)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/nsinspect" ./cmd/nsinspect
go build -o "$tmp/cmdbench" ./bench/cmdbench
cc -O2 -Wall -o "$tmp/cref" bench/cref/cref.c
mkdir "$tmp/empty"
printf 'package main\n\nfunc main() {}\n' >"$tmp/empty/main.go"
printf 'module empty\n\ngo 1.22\n' >"$tmp/empty/go.mod"
(cd "$tmp/empty" && go build -o "$tmp/empty-go" .)
# The floor of any binary with cgo in it, as nsinspect is (its zygote is C
# run before the Go runtime): dynamic linking, libc and the cgo runtime.
mkdir "$tmp/empty-cgo"
printf 'package main\n\n// static void nop(void) {}\nimport "C"\n\nfunc main() {}\n' >"$tmp/empty-cgo/main.go"
printf 'module emptycgo\n\ngo 1.22\n' >"$tmp/empty-cgo/go.mod"
(cd "$tmp/empty-cgo" && go build -o "$tmp/empty-cgo-go" .)
flags='CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWNET|CLONE_NEWPID|CLONE_NEWUSER|CLONE_NEWCGROUP|CLONE_NEWTIME'
util="unshare -f --mount --uts --ipc --net --pid --user --cgroup --time true"
results="$tmp/results"
: >"$results"

# bench NAME TARGET CMDBENCH-ARGS...: runs cmdbench, keeps its output and
# records "NAME ratio target".
bench() {
	local name=$1 target=$2
	shift 2
	"$tmp/cmdbench" -tsv "$@" | tee "$tmp/out"
	awk -v name="$name" -v target="$target" 'NF == 2 && $1 ~ /^[0-9.]+$/ {printf "%s\t%.2f\t%s\t%s\t%s\n", name, $1 / $2, target, $1, $2}' "$tmp/out" >>"$results"
	echo
}

echo "== one experiment in a lab, all namespace flags, against the C reference ($runs runs each, alternating)"
bench "one experiment / cref" 3 -n "$runs" -a "$tmp/nsinspect clone --json --identity $flags" -b "$tmp/cref"
echo "== the same against util-linux"
bench "one experiment / unshare -f" - -n "$runs" -a "$tmp/nsinspect clone --json --identity $flags" -b "$util"
echo "== the same from nsinspect's own namespaces (--host), against the C reference"
bench "--host experiment / cref" - -n "$runs" -a "$tmp/nsinspect clone --json --identity --host $flags" -b "$tmp/cref"
echo "== start-up: nsinspect --help against an empty Go program"
bench "--help / empty Go" 1.5 -n "$runs" -a "$tmp/nsinspect --help" -b "$tmp/empty-go"
echo "== the floor: an empty Go program with cgo in it, against one without, and against the C reference"
bench "empty cgo Go / empty Go" - -n "$runs" -a "$tmp/empty-cgo-go" -b "$tmp/empty-go"
bench "empty cgo Go / cref" - -n "$runs" -a "$tmp/empty-cgo-go" -b "$tmp/cref"

made=$("$tmp/nsinspect" matrix | sed -n 's/^\([0-9]*\) experiments: \([0-9]*\) made.*/\1 \2/p')
total=${made% *}
accepted=${made#* }
[ -n "$accepted" ] && [ "$accepted" -gt 0 ] || { echo "clone-vs-unshare: could not read the matrix's summary line" >&2; exit 1; }
mruns=$((runs / 20))
[ "$mruns" -ge 3 ] || mruns=3
echo "== the default matrix ($total experiments, $accepted accepted), per accepted experiment, against the C reference ($mruns runs, 5 of cref each)"
bench "matrix per accepted / cref" 1 -n "$mruns" -nb 5 -per-a "$accepted" -a "$tmp/nsinspect matrix" -b "$tmp/cref"
echo "== the default matrix with every probe, per accepted experiment"
bench "matrix --probes per accepted / cref" - -n "$mruns" -nb 5 -per-a "$accepted" -a "$tmp/nsinspect matrix --probes" -b "$tmp/cref"
if [ "$all" = yes ]; then
	echo "== matrix --all (16,383 flag sets), per experiment, against the default matrix per experiment"
	start=$(date +%s%N)
	"$tmp/nsinspect" matrix --all >/dev/null
	end=$(date +%s%N)
	start2=$(date +%s%N)
	"$tmp/nsinspect" matrix >/dev/null
	end2=$(date +%s%N)
	awk -v a=$((end - start)) -v d=$((end2 - start2)) -v t="$total" 'BEGIN {
		printf "matrix --all: %.1f s, %.3f ms per experiment; matrix: %.2f s, %.3f ms per experiment\n", a / 1e9, a / 1e6 / 16383, d / 1e9, d / 1e6 / t
		printf "matrix --all per experiment / matrix per experiment\t%.2f\t10\t%.4f\t%.4f\n", (a / 16383) / (d / t), a / 1e6 / 16383, d / 1e6 / t >> "'"$results"'"
	}'
	echo
fi

echo "== summary (ratio of medians; target met when ratio <= target)"
awk -F'\t' '{
	verdict = ($3 == "-") ? "" : (($2 <= $3) ? "met" : "MISSED")
	printf "%-40s %6.2f   target %-4s %-7s (%.3f ms against %.3f ms)\n", $1, $2, $3, verdict, $4, $5
}' "$results"
