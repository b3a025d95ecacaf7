#!/usr/bin/env bash
# nsinspect against an earlier nsinspect, in one run: is a restructuring
# free? Builds the binary at REV (default 7f27c14, the last commit before
# the application core moved out of cmd/nsinspect) and at NOW (default
# the working tree; 0467d14 is the core's last merge, before the kernels'
# and containerd's work added to what a pass reads), then times each
# workload with bench/cmdbench, the two binaries alternating, and prints
# the medians and their ratio (now / then).
#
#   ls          nsinspect ls --json            (auto: its own choice)
#   ls proc     nsinspect ls --json --source proc
#   ls bpf      nsinspect ls --json --source bpf
#   experiment  nsinspect clone --json --identity <all 8 namespace flags>
#
# The target is a ratio of at most 1.05 for each (no slower than 5 %).
# usage: bench/before-after.sh [--rev REV] [--now REV] [RUNS]   (RUNS default 15)
set -euo pipefail
cd "$(dirname "$0")/.."
rev=7f27c14
now=
runs=15
while [ $# -gt 0 ]; do
	case "$1" in
	--rev) rev=$2; shift 2 ;;
	--now) now=$2; shift 2 ;;
	-h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) runs=$1; shift ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "before-after: run as root (the lab's namespaces and the BPF source need it)" >&2; exit 2; }
for r in "$rev" ${now:+"$now"}; do
	git rev-parse --verify -q "$r^{commit}" >/dev/null || { echo "before-after: $r is not a commit of this repository (git fetch it, or give another)" >&2; exit 2; }
done
tmp=$(mktemp -d)
old="$tmp/then-src"
new="$tmp/now-src"
cleanup() {
	git worktree remove --force "$old" >/dev/null 2>&1 || true
	git worktree remove --force "$new" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
git worktree add -q --detach "$old" "$rev"
(cd "$old" && go build -o "$tmp/then" ./cmd/nsinspect)
if [ -n "$now" ]; then
	git worktree add -q --detach "$new" "$now"
	(cd "$new" && go build -o "$tmp/now" ./cmd/nsinspect)
	nowname=$(git rev-parse --short "$now")
else
	go build -o "$tmp/now" ./cmd/nsinspect
	nowname="$(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo '+changes')"
fi
go build -o "$tmp/cmdbench" ./bench/cmdbench
flags='CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWNET|CLONE_NEWPID|CLONE_NEWUSER|CLONE_NEWCGROUP|CLONE_NEWTIME'
echo "then: $(git rev-parse --short "$rev")  now: $nowname  runs: $runs  $(uname -r) $(nproc) CPUs  $(awk '{print $4}' /proc/loadavg | cut -d/ -f2) threads"
printf '%-12s %10s %10s %7s   %10s %10s %7s\n' workload "wall now" then ratio "CPU now" then ratio
# One run of a binary: "WALL_US MAXRSS_KIB CPU_US" from cmdbench -once.
# CPU time (user+sys) is the steadier figure on a machine doing other
# work; wall time is what a user waits.
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ms() { awk -v x="$1" 'BEGIN {printf "%.1f", x / 1000}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }
bench() {
	local name=$1 i w; shift
	: >"$tmp/now.t"
	: >"$tmp/then.t"
	for ((i = 0; i < runs; i++)); do
		for w in now then; do
			"$tmp/cmdbench" -once "$tmp/$w" "$@" >>"$tmp/$w.t" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
		done
	done
	local nw tw nc tc
	nw=$(cut -d' ' -f1 "$tmp/now.t" | median); tw=$(cut -d' ' -f1 "$tmp/then.t" | median)
	nc=$(cut -d' ' -f3 "$tmp/now.t" | median); tc=$(cut -d' ' -f3 "$tmp/then.t" | median)
	printf '%-12s %10s %10s %7s   %10s %10s %7s\n' "$name" "$(ms "$nw")" "$(ms "$tw")" "$(ratio "$nw" "$tw")" "$(ms "$nc")" "$(ms "$tc")" "$(ratio "$nc" "$tc")"
}
bench ls ls --json
bench "ls proc" ls --json --source proc
bench "ls bpf" ls --json --source bpf
bench experiment clone --json --identity "$flags"
