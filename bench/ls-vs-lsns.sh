#!/usr/bin/env bash
# Compares `nsinspect ls --json` with `lsns -J` on a large population of
# processes and namespaces: wall time (median of alternating runs) and peak
# RSS. Target: nsinspect >= 10x faster, peak RSS <= 64 MiB.
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

pgid=$(bench/scale-fixture.sh "$N" "$G" "$K")
# setsid bash + N sleeps + per group: unshare, bash, K sleeps.
want=$((1 + N + G * (K + 2)))
for _ in $(seq 1 600); do
	have=$(pgrep -c -g "$pgid" || true)
	[ "$have" -ge "$want" ] && break
	sleep 0.1
done
[ "$have" -ge "$want" ] || { echo "ls-vs-lsns: fixture started only $have of $want processes" >&2; exit 1; }
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

"$bin" ls --json >/dev/null 2>&1; lsns -J >/dev/null # warm the caches
: >"$tmp/lsns" ; : >"$tmp/nsi" ; : >"$tmp/before"
for _ in $(seq 1 "$RUNS"); do
	measure lsns -J >>"$tmp/lsns"
	measure "$bin" ls --json >>"$tmp/nsi"
	[ -z "${BEFORE:-}" ] || measure "$BEFORE" ls --json >>"$tmp/before"
done
l_us=$(cut -d' ' -f1 "$tmp/lsns" | median)
n_us=$(cut -d' ' -f1 "$tmp/nsi" | median)
l_rss=$(cut -d' ' -f2 "$tmp/lsns" | sort -n | tail -1)
n_rss=$(cut -d' ' -f2 "$tmp/nsi" | sort -n | tail -1)
l_cpu=$(cut -d' ' -f3 "$tmp/lsns" | median)
n_cpu=$(cut -d' ' -f3 "$tmp/nsi" | median)
ratio=$(awk -v l="$l_us" -v n="$n_us" 'BEGIN {printf "%.1f", l / n}')
cpu_ratio=$(awk -v l="$l_cpu" -v n="$n_cpu" 'BEGIN {printf "%.1f", (n > 0) ? l / n : 0}')
ms() { awk -v x="$1" 'BEGIN {printf "%.1f", x / 1000}'; }
printf '%-22s %12s %14s %14s\n' tool "median wall ms" "median CPU ms" "peak RSS KiB"
printf '%-22s %14s %14s %14d\n' "lsns -J" "$(ms "$l_us")" "$(ms "$l_cpu")" "$l_rss"
printf '%-22s %14s %14s %14d\n' "nsinspect ls --json" "$(ms "$n_us")" "$(ms "$n_cpu")" "$n_rss"
if [ -n "${BEFORE:-}" ]; then
	b_us=$(cut -d' ' -f1 "$tmp/before" | median)
	b_cpu=$(cut -d' ' -f3 "$tmp/before" | median)
	b_rss=$(cut -d' ' -f2 "$tmp/before" | sort -n | tail -1)
	printf '%-22s %14s %14s %14d\n' "before: $(basename "$BEFORE")" "$(ms "$b_us")" "$(ms "$b_cpu")" "$b_rss"
	echo "ratio before/now: $(awk -v b="$b_us" -v n="$n_us" 'BEGIN {printf "%.2f", b / n}')x wall, $(awk -v b="$b_cpu" -v n="$n_cpu" 'BEGIN {printf "%.2f", (n > 0) ? b / n : 0}')x CPU"
fi
echo "ratio lsns/nsinspect: ${ratio}x wall, ${cpu_ratio}x CPU, over $RUNS alternating runs each (incl. process start)"
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "namespaces: lsns $(lsns -J | grep -c '"ns":'), nsinspect $("$bin" ls --json 2>/dev/null | grep -c '"ns":')"

if command -v hyperfine >/dev/null; then
	hyperfine -N --warmup 1 --runs "$RUNS" --export-markdown "$tmp/hf.md" \
		-n 'lsns -J' 'lsns -J' -n 'nsinspect ls --json' "$bin ls --json" >/dev/null 2>&1 && cat "$tmp/hf.md"
fi

fail=0
awk -v r="$ratio" 'BEGIN {exit !(r >= 10)}' || { echo "FAIL: speed-up ${ratio}x is below 10x"; fail=1; }
[ "$n_rss" -le $((64 * 1024)) ] || { echo "FAIL: nsinspect peak RSS ${n_rss} KiB is above 64 MiB"; fail=1; }
[ "$fail" = 0 ] && echo "PASS: >= 10x faster than lsns -J, peak RSS <= 64 MiB"
exit "$fail"
