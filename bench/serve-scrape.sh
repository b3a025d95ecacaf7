#!/usr/bin/env bash
# Times one /metrics scrape of `nsinspect serve` that runs a whole
# discovery pass (--min-interval 0), through each source, on the
# population of bench/scale-fixture.sh (default 5000 plain processes and
# 100 groups of 10 in fresh namespaces: ~6,200 processes), and reports the
# server's peak RSS (VmHWM). Targets: a scrape in at most 100 ms with bpf
# and 1 s with proc, peak RSS at most 64 MiB. Then runs BenchmarkScrape.
#
# usage: bench/serve-scrape.sh [--ci] [N [G [K]]]   (--ci: 500 20 5)
#   RUNS=n scrapes per source (default 21). Needs root and curl.
set -euo pipefail
cd "$(dirname "$0")/.."

N=5000 G=100 K=10
if [ "${1:-}" = "--ci" ]; then shift; N=500 G=20 K=5; fi
N=${1:-$N} G=${2:-$G} K=${3:-$K} RUNS=${RUNS:-21}
command -v curl >/dev/null || { echo "serve-scrape: curl not found (apt-get install curl)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "serve-scrape: run as root" >&2; exit 2; }

tmp=$(mktemp -d)
pgid= spid=
cleanup() {
	[ -z "$spid" ] || kill "$spid" 2>/dev/null || true
	[ -z "$pgid" ] || kill -- "-$pgid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bin=$tmp/nsinspect
go build -o "$bin" ./cmd/nsinspect
pgid=$(bench/scale-fixture.sh --wait "$N" "$G" "$K")
have=$(pgrep -c -g "$pgid")
echo "fixture: N=$N G=$G K=$K: $have fixture processes, $(ls /proc | grep -c '^[0-9]') on the host"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
fail=0
for src in bpf proc; do
	"$bin" serve --listen 127.0.0.1:0 --min-interval 0 --source "$src" 2>"$tmp/err" &
	spid=$!
	addr=
	for _ in $(seq 1 100); do
		addr=$(sed -n 's|^nsinspect: serving on http://\([^ ]*\).*|\1|p' "$tmp/err")
		[ -n "$addr" ] && break
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$addr" ]; then echo "$src: serve did not start: $(cat "$tmp/err")"; spid=; continue; fi
	curl -sf "http://$addr/metrics" >/dev/null # the first pass warms the caches
	: >"$tmp/t"
	for _ in $(seq 1 "$RUNS"); do
		curl -sf -o /dev/null -w '%{time_total}\n' "http://$addr/metrics" >>"$tmp/t"
	done
	ms=$(median <"$tmp/t" | awk '{printf "%.1f", $1 * 1000}')
	rss=$(awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$spid/status")
	limit=$([ "$src" = bpf ] && echo 100 || echo 1000)
	verdict=met
	awk -v a="$ms" -v b="$limit" 'BEGIN {exit !(a <= b)}' || { verdict=MISSED; fail=1; }
	awk -v a="$rss" 'BEGIN {exit !(a <= 64)}' || { verdict="$verdict, RSS MISSED"; fail=1; }
	echo "$src: one scrape (a full pass) median ${ms} ms over $RUNS, peak RSS ${rss} MiB; target ${limit} ms, 64 MiB: $verdict"
	kill "$spid"; wait "$spid" 2>/dev/null || true; spid=
done
go test -run '^$' -bench Scrape -benchtime 10x ./server
exit $fail
