#!/usr/bin/env bash
# Compares `nsinspect ls --json` through each of its sources (--source bpf:
# the kernel's task list by BPF iterators; --source proc: the /proc walk;
# auto, the default, which picks one of them by the host's size) with
# `lsns -J`, at several host sizes in one run: the host as it is, and
# populations of sleeping processes in many namespaces started by
# bench/scale-fixture.sh. At each size the tools run alternately; it
# prints wall time (median), CPU time (median), peak RSS and the ratio to
# lsns, which source auto picked, and the Go benchmark of one discovery
# pass per source (BenchmarkDiscover, renamed .../size=LABEL/... so that
# benchstat can compare sizes). Sizes are counted in threads, the unit
# auto decides in (the fourth field of /proc/loadavg). A summary table
# ends the run.
#
# Targets (at the largest size, 5,000 processes or more): bpf >= 30x and
# proc >= 5x faster than lsns, peak RSS <= 64 MiB each; at every size,
# ls (auto) faster than lsns, and nsproxy, graph and kthreads at most
# 1.2x ls (auto). The bpf source is timed only where it can
# run (root, BTF); otherwise it is reported as unavailable and not judged.
#
# usage: bench/ls-vs-lsns.sh [--ci] [SIZE...]
#   SIZE is "idle" (the host as it is) or N:G:K, N plain sleeping
#   processes and G groups in fresh net+ipc+uts+mnt+pid namespaces with K
#   processes each. Default: idle 800:20:8 5000:100:10 (the host, about
#   1,000 and about 6,200 processes more). --ci: idle 300:10:5, 5 runs,
#   no targets judged.
#   RUNS=n sets the runs per tool and size (default 11, --ci 5).
#   GOBENCH=0 leaves out the Go benchmark; BENCHTIME its -benchtime (10x).
#   BEFORE=BIN also times another nsinspect binary (an older build) in the
#   same alternating runs, for before/after numbers of one change.
#   VIEWS=0 leaves out the views built on the same pass (nsproxy --json,
#   graph, kthreads --json), otherwise timed in the same runs and judged
#   against ls (auto): at most 1.2x its median wall time at every size.
# Needs root (other users' namespaces), util-linux lsns, Go for the
# build. Each run is timed by bench/cmdbench -once (wall time, peak RSS,
# and CPU time to the microsecond from the child's rusage).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=(idle 800:20:8 5000:100:10) RUNS_DEFAULT=11 ci=0
if [ "${1:-}" = "--ci" ]; then
	shift
	SIZES=(idle 300:10:5) RUNS_DEFAULT=5 ci=1
fi
[ $# -eq 0 ] || SIZES=("$@")
RUNS=${RUNS:-$RUNS_DEFAULT} GOBENCH=${GOBENCH:-1} BENCHTIME=${BENCHTIME:-10x}
for s in "${SIZES[@]}"; do
	[[ $s = idle || $s =~ ^[0-9]+:[0-9]+:[0-9]+$ ]] || { echo "ls-vs-lsns: size $s: want idle or N:G:K (e.g. 800:20:8)" >&2; exit 2; }
done
for tool in lsns pgrep; do
	command -v "$tool" >/dev/null || { echo "ls-vs-lsns: $tool not found (apt-get install util-linux procps)" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "ls-vs-lsns: run as root: lsns and nsinspect need CAP_SYS_PTRACE to see every process" >&2; exit 2; }

tmp=$(mktemp -d)
pgid=
stop_fixture() {
	[ -n "$pgid" ] || return 0
	kill -- "-$pgid" 2>/dev/null || true
	# Each group's unshare'd bash is a pid namespace's init: its sleeps
	# die with it, but not in the same instant. The next size starts from
	# a host without them.
	for _ in $(seq 1 300); do
		pgrep -g "$pgid" >/dev/null || break
		sleep 0.1
	done
	pgid=
}
cleanup() {
	stop_fixture
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bin=$tmp/nsinspect
go build -o "$bin" ./cmd/nsinspect
go build -o "$tmp/cmdbench" ./bench/cmdbench
[ "$GOBENCH" = 0 ] || go test -c -o "$tmp/discover.test" ./discover

# One run of "$@" (output discarded): wall us, peak RSS KiB, CPU us
# (user+sys). CPU time is printed too because on a machine shared with
# other work wall time measures the neighbours as much as the tool.
# lsns exits 1 now and then when a process it lists exits under it (the
# machine's other work); a run is tried three times before the script
# gives up.
measure() {
	local out
	for _ in 1 2 3; do
		out=$("$tmp/cmdbench" -once "$@" 2>"$tmp/err") && { echo "$out"; return; }
	done
	cat "$tmp/err" >&2
	exit 1
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
col() { cut -d' ' -f"$2" "$tmp/$1" | median; }
peak() { cut -d' ' -f2 "$tmp/$1" | sort -n | tail -1; }
ms() { awk -v x="$1" 'BEGIN {printf "%.1f", x / 1000}'; }
ratio() { awk -v l="$1" -v n="$2" 'BEGIN {printf "%.1f", (n > 0) ? l / n : 0}'; }
ratio2() { awk -v l="$1" -v n="$2" 'BEGIN {printf "%.2f", (n > 0) ? l / n : 0}'; }
# threads is the host's number of tasks (every thread, kernel threads
# included): the denominator of /proc/loadavg's fourth field.
threads() { awk '{split($4, a, "/"); print a[2]}' /proc/loadavg; }
source_of() { "$bin" ls --json "$@" 2>/dev/null | sed -n 's/^  "source": "\(.*\)",*$/\1/p' | head -1; }

bpf=1
"$bin" ls --json --source bpf >/dev/null 2>"$tmp/bpf-err" || { bpf=0; echo "bpf source unavailable: $(cat "$tmp/bpf-err")"; }
tools=(lsns proc auto)
[ "$bpf" = 0 ] || tools=(lsns proc bpf auto)
# The listns source where the kernel has listns(2) (6.19): as root it is
# the /proc walk and then listns(2) for what the walk missed.
listns=0
"$bin" ls --json --source listns >/dev/null 2>"$tmp/listns-err" && listns=1
[ "$listns" = 0 ] && echo "listns source unavailable: $(head -1 "$tmp/listns-err")"
[ "$listns" = 0 ] || tools+=(listns)
[ -z "${BEFORE:-}" ] || tools+=(before)
# The views built on the same discovery pass, each in auto's own choice of
# source, timed in the same alternating runs and judged against ls (auto).
views=()
[ "${VIEWS:-1}" = 0 ] || views=(nsproxy graph kthreads)
tools+=("${views[@]}")
run_tool() {
	case $1 in
	lsns) measure lsns -J ;;
	proc | bpf | listns) measure "$bin" ls --json --source "$1" ;;
	auto) measure "$bin" ls --json ;;
	before) measure "$BEFORE" ls --json ;;
	nsproxy | kthreads) measure "$bin" "$1" --json ;;
	graph) measure "$bin" graph ;;
	esac
}
label_of() {
	case $1 in
	lsns) echo "lsns -J" ;;
	proc | bpf | listns) echo "nsinspect ls --source $1" ;;
	auto) echo "nsinspect ls (auto: $picked)" ;;
	before) echo "before: $(basename "$BEFORE")" ;;
	nsproxy | kthreads) echo "nsinspect $1 --json" ;;
	graph) echo "nsinspect graph (DOT)" ;;
	esac
}

: >"$tmp/summary"
fail=0
for size in "${SIZES[@]}"; do
	if [ "$size" = idle ]; then
		label=idle what="the host as it is"
	else
		IFS=: read -r N G K <<<"$size"
		pgid=$(bench/scale-fixture.sh --wait "$N" "$G" "$K")
		label=$((N + G * (K + 2) + 1))
		what="N=$N G=$G K=$K: $(pgrep -c -g "$pgid") fixture processes"
	fi
	nthreads=$(threads) nprocs=$(ls /proc | grep -c '^[0-9]')
	echo
	echo "== size $label: $what; $nprocs processes, $nthreads threads on the host"
	picked=$(source_of)
	for t in "${tools[@]}"; do : >"$tmp/$t"; done
	run_tool proc >/dev/null; run_tool lsns >/dev/null # warm the caches
	for _ in $(seq 1 "$RUNS"); do
		for t in "${tools[@]}"; do run_tool "$t" >>"$tmp/$t"; done
	done
	l_us=$(col lsns 1)
	printf '%-34s %14s %14s %14s %10s\n' tool "median wall ms" "median CPU ms" "peak RSS KiB" "lsns/tool"
	for t in "${tools[@]}"; do
		printf '%-34s %14s %14s %14d %9sx\n' "$(label_of "$t")" "$(ms "$(col "$t" 1)")" "$(ms "$(col "$t" 3)")" "$(peak "$t")" "$(ratio "$l_us" "$(col "$t" 1)")"
	done
	if [ ${#views[@]} -gt 0 ]; then
		printf 'views over ls (auto), median wall (target <= 1.2):'
		for v in "${views[@]}"; do printf ' %s %s' "$v" "$(ratio2 "$(col "$v" 1)" "$(col auto 1)")"; done
		echo
	fi
	echo "namespaces: lsns $(lsns -J | grep -c '"ns":'), proc $("$bin" ls --json --source proc 2>/dev/null | grep -c '"ns":')$([ "$bpf" = 0 ] || echo ", bpf $("$bin" ls --json --source bpf 2>/dev/null | grep -c '"ns":')")"
	echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"
	{
		printf '%s %s %s %s' "$label" "$nthreads" "$(ms "$l_us")" "$picked"
		for t in proc bpf auto listns; do
			if [ -s "$tmp/$t" ]; then printf ' %s %s %s' "$(ms "$(col "$t" 1)")" "$(ratio "$l_us" "$(col "$t" 1)")" "$(ms "$(col "$t" 3)")"; else printf ' - - -'; fi
		done
		vw=
		for v in "${views[@]}"; do vw="$vw${vw:+,}$v=$(ratio2 "$(col "$v" 1)" "$(col auto 1)")"; done
		printf ' %s\n' "${vw:--}"
	} >>"$tmp/summary"
	if [ "$GOBENCH" != 0 ]; then
		(cd discover && "$tmp/discover.test" -test.run '^$' -test.bench 'BenchmarkDiscover/(proc|bpf|auto)(-tasks)?$' -test.benchtime "$BENCHTIME") |
			sed -n "s|^BenchmarkDiscover/|BenchmarkDiscover/size=$label/|p"
	fi

	judge() { # label file target
		local r; r=$(ratio "$l_us" "$(col "$2" 1)")
		if awk -v r="$r" -v t="$3" 'BEGIN {exit !(r >= t)}'; then echo "PASS: $1 ${r}x faster than lsns -J (target ${3}x)"; else echo "FAIL: $1 ${r}x faster than lsns -J, below the ${3}x target"; fail=1; fi
	}
	rss() { # label file
		if [ "$(peak "$2")" -le $((64 * 1024)) ]; then echo "PASS: $1 peak RSS $(peak "$2") KiB <= 64 MiB"; else echo "FAIL: $1 peak RSS $(peak "$2") KiB > 64 MiB"; fail=1; fi
	}
	if [ "$ci" = 0 ]; then
		judge "ls (auto: $picked)" auto 1
		for v in "${views[@]}"; do
			r=$(ratio2 "$(col "$v" 1)" "$(col auto 1)")
			if awk -v r="$r" 'BEGIN {exit !(r <= 1.2)}'; then echo "PASS: $v ${r}x ls (target <= 1.2x)"; else echo "FAIL: $v ${r}x ls, above the 1.2x target"; fail=1; fi
		done
		if [ "$label" != idle ] && [ "$label" -ge 5000 ]; then
			judge "--source proc" proc 5
			rss "--source proc" proc
			if [ "$bpf" = 1 ]; then
				judge "--source bpf" bpf 30
				rss "--source bpf" bpf
			fi
		fi
	fi
	stop_fixture
done

echo
echo "summary: median wall ms (lsns/tool ratio) [median CPU ms], $RUNS alternating runs per tool and size, process start included"
printf '%-8s %8s %9s %-9s %-24s %-24s %-24s %-24s %s\n' size threads "lsns ms" "auto ran" proc bpf auto listns "views/ls (wall)"
while read -r label nthreads l picked p pr pc b br bc a ar ac x xr xc vw; do
	cell() { if [ "$1" = - ]; then echo -; else echo "$1 (${2}x) [$3]"; fi; }
	printf '%-8s %8s %9s %-9s %-24s %-24s %-24s %-24s %s\n' "$label" "$nthreads" "$l" "$picked" "$(cell "$p" "$pr" "$pc")" "$(cell "$b" "$br" "$bc")" "$(cell "$a" "$ar" "$ac")" "$(cell "$x" "$xr" "$xc")" "$vw"
done <"$tmp/summary"
echo "machine: $(nproc) CPUs, kernel $(uname -r), $(lsns --version)"
exit "$fail"
