#!/usr/bin/env bash
# One clone experiment with every namespace flag, identity and kcmp but no
# probes (`nsinspect clone --json --identity`), against util-linux making
# the same namespaces (`unshare -f ... true`), alternated in one run: once
# in the default lab and once with --host; then the default matrix (every
# flag and pair) timed as a whole, without and with probes.
# Targets (issue 3): one experiment <= 5 ms median; the matrix <= 10 s.
#
# usage: bench/clone-vs-unshare.sh [--ci] [RUNS]   (default 200 runs, --ci 30)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=200
if [ "${1:-}" = "--ci" ]; then shift; runs=30; fi
runs=${1:-$runs}
[ "$(id -u)" = 0 ] || { echo "clone-vs-unshare: run as root (namespaces need CAP_SYS_ADMIN)" >&2; exit 2; }
command -v unshare >/dev/null || { echo "clone-vs-unshare: unshare not found (apt-get install util-linux)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/nsinspect" ./cmd/nsinspect
go build -o "$tmp/cmdbench" ./bench/cmdbench
flags='CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWNET|CLONE_NEWPID|CLONE_NEWUSER|CLONE_NEWCGROUP|CLONE_NEWTIME'
util="unshare -f --mount --uts --ipc --net --pid --user --cgroup --time true"
echo "== one experiment in a lab, all namespace flags ($runs runs each, alternating)"
"$tmp/cmdbench" -n "$runs" -a "$tmp/nsinspect clone --json --identity $flags" -b "$util"
echo "== the same from nsinspect's own namespaces (--host)"
"$tmp/cmdbench" -n "$runs" -a "$tmp/nsinspect clone --json --identity --host $flags" -b "$util"
echo "== the full report (snapshot of mounts, links, IPC, hostname; no probes), in a lab"
"$tmp/cmdbench" -n "$runs" -a "$tmp/nsinspect clone --json --no-probes $flags" -b "$util"
echo "== the default matrix (every single flag and every pair), identity only"
start=$(date +%s%N)
"$tmp/nsinspect" matrix >/dev/null
end=$(date +%s%N)
awk -v ns=$((end - start)) 'BEGIN {printf "matrix: %.2f s\n", ns / 1e9}'
echo "== the same with every probe"
start=$(date +%s%N)
"$tmp/nsinspect" matrix --probes >/dev/null
end=$(date +%s%N)
awk -v ns=$((end - start)) 'BEGIN {printf "matrix --probes: %.2f s\n", ns / 1e9}'
