#!/usr/bin/env bash
# What tracing costs the machine, and whether it loses or miscounts, in one
# run (issue 25's load targets), with bench/forkload/forkload.c as the load:
#
#   paced     `forkload paced RATE SECONDS` (fork and reap, RATE a second)
#             while `watch --json` runs (the whole machine): every fork of
#             forkload is an event and none is lost (target: lost 0)
#   overhead  unpaced `forkload loop N` (fork and reap) and `forkload
#             getppid N`, each RUNS times without and with a `watch` running
#             (its programs attached, every event read and decoded, those of
#             forkload filtered out rather than printed), alternating;
#             medians and their ratio (target: at most 1.05 each)
#   loss      `trace -- forkload burst N`, trace stopped (SIGSTOP) before
#             the burst and continued after it, so that its ring buffer
#             fills: the fork events printed plus the events the end line
#             says were lost equal the forks made (exit records, not events,
#             are counted apart: the end line's lost_exits)
#
# usage: bench/watch-load.sh [--ci]
#   full size: paced 1000/s for 60 s, loop 20,000, getppid 5,000,000,
#   burst 30,000, 7 runs. --ci: 5 s, 2,000, 500,000, 20,000, 3 runs.
# Needs root (BPF), gcc, Go for the build. Exit 1 when a target is missed.
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=1000 SECS=60 LOOP=20000 PPID_N=5000000 BURST=30000 RUNS=7
if [ "${1:-}" = "--ci" ]; then
	SECS=5 LOOP=2000 PPID_N=500000 BURST=20000 RUNS=3
fi
[ "$(id -u)" = 0 ] || { echo "watch-load: run as root (the tracer needs CAP_BPF and CAP_PERFMON)" >&2; exit 2; }
command -v gcc >/dev/null || { echo "watch-load: gcc not found (apt-get install gcc)" >&2; exit 2; }
tmp=$(mktemp -d)
watch_pid=
cleanup() {
	[ -z "$watch_pid" ] || kill "$watch_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
"${GO:-go}" build -o "$tmp/nsinspect" ./cmd/nsinspect
gcc -O2 -Wall -Werror -o "$tmp/forkload" bench/forkload/forkload.c
cp "$tmp/forkload" "$tmp/forkready"
bin=$tmp/nsinspect load=$tmp/forkload
fail=0

# start_watch ARGS...: watch in the background, output in $tmp/watch.out,
# once its programs are attached: seen by a fork of forkready (forkload
# under another name) showing up, so ARGS must let its events through.
start_watch() {
	"$bin" watch "$@" >"$tmp/watch.out" 2>"$tmp/watch.err" &
	watch_pid=$!
	for _ in $(seq 1 200); do
		"$tmp/forkready" loop 1 >/dev/null
		grep -q 'forkready' "$tmp/watch.out" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "watch-load: watch did not report a fork in 10 s: $(cat "$tmp/watch.err")" >&2
	exit 1
}
stop_watch() {
	kill -TERM "$watch_pid"
	wait "$watch_pid" || true
	watch_pid=
}
count() { grep -c "$1" "$2" || true; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "== paced: $RATE forks a second for $SECS s under watch"
start_watch --json
out=$("$load" paced "$RATE" "$SECS")
sleep 1
stop_watch
forks=$(echo "$out" | awk '{print $2}') took=$(echo "$out" | awk '{print $3}')
events=$(grep '"event":"fork"' "$tmp/watch.out" | grep -c '"caller":{[^}]*"comm":"forkload"' || true)
lost=$(sed -n 's/.*"event":"end".*"lost":\([0-9]*\).*/\1/p' "$tmp/watch.out")
rate=$(awk -v n="$forks" -v s="$took" 'BEGIN {printf "%.0f", n / s}')
echo "forks $forks in $took s ($rate a second achieved), fork events $events, lost $lost"
if [ "$events" = "$forks" ] && [ "${lost:-x}" = 0 ]; then echo "PASS: every fork an event, none lost"; else echo "FAIL: $forks forks, $events events, $lost lost"; fail=1; fi

echo
echo "== overhead: $RUNS alternating runs each, without and with watch"
: >"$tmp/loop-off" ; : >"$tmp/loop-on" ; : >"$tmp/ppid-off" ; : >"$tmp/ppid-on"
for _ in $(seq 1 "$RUNS"); do
	"$load" loop "$LOOP" | awk '{print $3}' >>"$tmp/loop-off"
	"$load" getppid "$PPID_N" | awk '{print $3}' >>"$tmp/ppid-off"
	start_watch --comm forkready # forkload's events are read and decoded, not printed
	"$load" loop "$LOOP" | awk '{print $3}' >>"$tmp/loop-on"
	"$load" getppid "$PPID_N" | awk '{print $3}' >>"$tmp/ppid-on"
	stop_watch
done
for w in loop ppid; do
	off=$(median <"$tmp/$w-off") on=$(median <"$tmp/$w-on")
	r=$(awk -v a="$on" -v b="$off" 'BEGIN {printf "%.3f", a / b}')
	name=$([ $w = loop ] && echo "fork and reap x$LOOP" || echo "getppid x$PPID_N")
	printf '%-26s without %8.3f s  with %8.3f s  ratio %s\n' "$name" "$off" "$on" "$r"
	if awk -v r="$r" 'BEGIN {exit !(r <= 1.05)}'; then echo "PASS: $name at most 5 % slower"; else echo "FAIL: $name ${r}x with watch"; fail=1; fi
done

echo
echo "== loss: trace stopped while forkload forks $BURST children"
"$bin" trace --json -o "$tmp/trace.out" -- "$load" burst "$BURST" "$tmp/go" "$tmp/done" >"$tmp/burst.out" 2>"$tmp/trace.err" &
trace_pid=$!
for _ in $(seq 1 200); do pgrep -x forkload >/dev/null && break; sleep 0.05; done
kill -STOP "$trace_pid"
touch "$tmp/go"
for _ in $(seq 1 1200); do [ -e "$tmp/done" ] && break; sleep 0.05; done
kill -CONT "$trace_pid"
wait "$trace_pid" || true
events=$(count '"event":"fork"' "$tmp/trace.out")
lost=$(sed -n 's/.*"event":"end".*"lost":\([0-9]*\).*/\1/p' "$tmp/trace.out")
exits=$(sed -n 's/.*"lost_exits":\([0-9]*\).*/\1/p' "$tmp/trace.out")
echo "forks $BURST, fork events printed $events, lost $lost (exit records lost ${exits:-0}); stderr: $(head -1 "$tmp/trace.err")"
if [ $((events + ${lost:-0})) = "$BURST" ] && [ "${lost:-0}" -gt 0 ]; then
	echo "PASS: printed + lost = forks, with loss forced"
else
	echo "FAIL: printed $events + lost ${lost:-?} != $BURST forks (or nothing was lost)"; fail=1
fi
echo "machine: $(nproc) CPUs, kernel $(uname -r)"
exit "$fail"
