#!/usr/bin/env bash
# Recaptures procinfo/testdata from this machine (run as root, from the
# repository root: procinfo/testdata/capture.sh). Every fixture is a real
# /proc file; none is written by hand.
set -euo pipefail
out=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out/fdinfo" "$out/status" "$out/mountinfo" "$out/idmap" "$out/cgroup"

# fdinfo of one fd of each kind, and the fd links with their st_mode.
go run ./procinfo/testdata/capture "$out" "$tmp"

# status of a kernel thread (kthreadd) and of a zombie (a child that exited
# and was not reaped: sh execs into sleep, so the "true" is sleep's child).
cp /proc/2/status "$out/status/kthreadd"
cp /proc/2/stat "$out/status/kthreadd.stat"
sh -c 'true & exec sleep 5' &
parent=$!
sleep 0.5
zombie=$(pgrep -P "$parent")
cp "/proc/$zombie/status" "$out/status/zombie"
cp "/proc/$zombie/stat" "$out/status/zombie.stat"
kill "$parent"; wait "$parent" || true
cp /proc/self/status "$out/status/self"

# uid_map/gid_map: the initial user ns, and a user ns made by
# unshare --map-root-user (one range), and one whose map root wrote with
# two ranges.
cp /proc/self/uid_map "$out/idmap/init"
unshare --user --map-root-user cat /proc/self/uid_map >"$out/idmap/map-root-user"
unshare --user sleep 5 &
child=$!
sleep 0.3
# uid_map takes the whole map in one write(2): cat does that, printf not.
printf '0 100000 1000\n1000 2000 1\n' >"$tmp/map"
cat "$tmp/map" >"/proc/$child/uid_map"
cp "/proc/$child/uid_map" "$out/idmap/two-ranges"
kill "$child"; wait "$child" || true

# cgroup: this machine's hybrid v1+v2 layout, and a process moved into a
# cgroup v2 group whose name holds a space and a colon.
cp /proc/self/cgroup "$out/cgroup/hybrid"
v2=$(findmnt -n -o TARGET -t cgroup2 | head -1)
grp="$v2/nsinspect fixture:a"
mkdir -p "$grp"
sh -c 'echo $$ >"$1/cgroup.procs"; cat /proc/self/cgroup' sh "$grp" >"$out/cgroup/v2-space-colon"
unshare --cgroup sh -c 'cat /proc/self/cgroup' >"$out/cgroup/cgroupns"
rmdir "$grp"

# mountinfo in a private mount namespace with a mount point holding a space
# (\040) and a bind mount whose source file was then deleted (//deleted).
unshare --mount --propagation private sh -c '
	mkdir -p "$1/with space" && mount -t tmpfs fixture "$1/with space"
	touch "$1/src" "$1/dst" && mount --bind "$1/src" "$1/dst" && rm "$1/src"
	cat /proc/self/mountinfo' sh "$tmp" >"$out/mountinfo/space-deleted"

# mountinfo of pid 1, whose mounts carry optional fields (shared:N).
cp /proc/1/mountinfo "$out/mountinfo/init"
