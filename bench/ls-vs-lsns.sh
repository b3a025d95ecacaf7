#!/usr/bin/env bash
# Compares `nsinspect ls --json` through each of its sources (--source bpf:
# the kernel's task list by BPF iterators; --source proc: the /proc walk)
# with `lsns -J` on a large population of processes and namespaces, in one
# run of alternating measurements: wall time (median), CPU time and peak
# RSS. Targets (issue 11): bpf >= 30x and proc >= 5x faster than lsns,
# peak RSS <= 64 MiB each. The bpf source is timed only where it can run
# (root, BTF); otherwise it is reported as unavailable and not judged.
#
# usage: bench/ls-vs-lsns.sh [--ci] [N [G [K]]]
#   N plain sleeping processes, G groups in fresh net+ipc+uts+mnt+pid
#   namespaces with K processes each (bench/scale-fixture.sh).
#   Defaults 5000 100 10; --ci means 500 20 5 and fewer runs.
#   RUNS=n sets the runs per tool (default 11, --ci 5).
#   BEFORE=BIN also times another nsinspect binary (an older build) in the
#   same alternating runs, for before/after numbers of one change.
# Needs root (other users' namespaces), util-linux lsns, GNU time
# (apt-get install time); uses hyperfine as a second opinion if installed.
set -euo pipefail
cd "$(dirname "$0")/.."

N=5000 G=100 K=10 RUNS_DEFAULT=11
if [ "${1:-}" = "--ci" ]; then
	shift
	N=500 G=20 K=5 RUNS_DEFAULT=5
fi
N=${1:-$N} G=${2:-$G} K=${3:-$K} RUNS=${RUNS:-$RUNS_DEFAULT}
for tool in lsns /usr/bin/time pgrep; do
	command -v "$tool" >/dev/null || { echo "ls-vs-lsns: $tool not found (apt-get install util-linux time procps)" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "ls-vs-lsns: run as root: lsns and nsinspect need CAP_SYS_PTRACE to see every process" >&2; exit 2; }

tmp=$(mktemp -d)
pgid=
cleanup() {
	if [ -n "$pgid" ]; then
		kill -- "-$pgid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bin=$tmp/nsinspect
go build -o "$bin" ./cmd/nsinspect

pgid=$(bench/scale-fixture.sh --wait "$N" "$G" "$K")
have=$(pgrep -c -g "$pgid")
total=$(ls /proc | grep -c '^[0-9]')
echo "fixture: N=$N G=$G K=$K: $have fixture processes, $total on the host"

# One run of "$@" (output discarded): wall us, peak RSS KiB, CPU us
# (user+sys). CPU time is printed too because on a machine shared with
# other work wall time measures the neighbours as much as the tool.
measure() {
	local t0 t1
	t0=$(date +%s%N)
	/usr/bin/time -f '%M %U %S' -o "$tmp/rss" "$@" >/dev/null 2>"$tmp/err" || { echo "ls-vs-lsns: $* failed:" >&2; cat "$tmp/err" >&2; exit 1; }
	t1=$(date +%s%N)
	echo "$(((t1 - t0) / 1000)) $(tail -1 "$tmp/rss" | awk '{printf "%d %d", $1, ($2 + $3) * 1e6}')"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

bpf=1
"$bin" ls --json --source bpf >/dev/null 2>"$tmp/bpf-err" || { bpf=0; echo "bpf source unavailable: $(cat "$tmp/bpf-err")"; }
"$bin" ls --json --source proc >/dev/null 2>&1; lsns -J >/dev/null # warm the caches
: >"$tmp/lsns" ; : >"$tmp/proc" ; : >"$tmp/bpf" ; : >"$tmp/before"
for _ in $(seq 1 "$RUNS"); do
	measure lsns -J >>"$tmp/lsns"
	measure "$bin" ls --json --source proc >>"$tmp/proc"
	[ "$bpf" = 0 ] || measure "$bin" ls --json --source bpf >>"$tmp/bpf"
	[ -z "${BEFORE:-}" ] || measure "$BEFORE" ls --json >>"$tmp/before"
done
col() { cut -d' ' -f"$2" "$tmp/$1" | median; }
peak() { cut -d' ' -f2 "$tmp/$1" | sort -n | tail -1; }
ms() { awk -v x="$1" 'BEGIN {printf "%.1f", x / 1000}'; }
ratio() { awk -v l="$1" -v n="$2" 'BEGIN {printf "%.1f", (n > 0) ? l / n : 0}'; }
l_us=$(col lsns 1) l_cpu=$(col lsns 3)
printf '%-30s %14s %14s %14s %10s\n' tool "median wall ms" "median CPU ms" "peak RSS KiB" "lsns/tool"
row() { # label file
	printf '%-30s %14s %14s %14d %9sx\n' "$1" "$(ms "$(col "$2" 1)")" "$(ms "$(col "$2" 3)")" "$(peak "$2")" "$(ratio "$l_us" "$(col "$2" 1)")"
}
row "lsns -J" lsns
row "nsinspect ls --source proc" proc
[ "$bpf" = 0 ] || row "nsinspect ls --source bpf" bpf
[ -z "${BEFORE:-}" ] || row "before: $(basename "$BEFORE")" before
echo "ratios are of median wall times over $RUNS alternating runs each, process start included;"
echo "CPU ratios: proc $(ratio "$l_cpu" "$(col proc 3)")x$([ "$bpf" = 0 ] || echo ", bpf $(ratio "$l_cpu" "$(col bpf 3)")x")"
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), kernel $(uname -r)"
echo "namespaces: lsns $(lsns -J | grep -c '"ns":'), proc $("$bin" ls --json --source proc 2>/dev/null | grep -c '"ns":')$([ "$bpf" = 0 ] || echo ", bpf $("$bin" ls --json --source bpf 2>/dev/null | grep -c '"ns":')")"

fail=0
judge() { # label file target
	local r; r=$(ratio "$l_us" "$(col "$2" 1)")
	if awk -v r="$r" -v t="$3" 'BEGIN {exit !(r >= t)}'; then echo "PASS: $1 ${r}x faster than lsns -J (target ${3}x)"; else echo "FAIL: $1 ${r}x faster than lsns -J, below the ${3}x target"; fail=1; fi
	if [ "$(peak "$2")" -le $((64 * 1024)) ]; then echo "PASS: $1 peak RSS $(peak "$2") KiB <= 64 MiB"; else echo "FAIL: $1 peak RSS $(peak "$2") KiB > 64 MiB"; fail=1; fi
}
judge "--source proc" proc 5
[ "$bpf" = 0 ] || judge "--source bpf" bpf 30
exit "$fail"
