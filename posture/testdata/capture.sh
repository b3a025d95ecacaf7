#!/bin/sh
# How the fixtures under testdata/ were captured (once, as root, on the
# project's 6.18 VM: cgroup v1, docker with the cgroupfs driver and
# fuse-overlayfs, no LSM). The unit tests never run docker; rerun this
# only to refresh the snapshots, from /work/main after `make image`.
#
# Fixtures named edited-* are real snapshots with lines taken out or put
# in, to stand for what this VM does not have (a 5.8 kernel without
# Seccomp_filters, a 4.2 one without CapAmb, NoNewPrivs and Seccomp, a
# cgroup2-only VM); attr/* are the texts AppArmor and SELinux write.
set -eu
out=${1:-posture/testdata}
cap() {
	name=$1; shift
	id=$(docker run -d --rm "$@" nsinspect hold)
	sleep 1
	pid=$(docker inspect -f '{{.State.Pid}}' "$id")
	cat /proc/"$pid"/status >"$out/status/docker-$name"
	cat /proc/"$pid"/mountinfo >"$out/mountinfo/docker-$name"
	[ "$name" = default ] && cat /proc/"$pid"/cgroup >"$out/cgroup/docker-v1"
	[ "$name" = default ] && cat /proc/"$pid"/uid_map >"$out/idmap/identity"
	docker rm -f "$id" >/dev/null
}
cap default
cap readonly --read-only
cap docker-sock -v /var/run/docker.sock:/var/run/docker.sock
# --privileged is refused here (CAP_SYS_RESOURCE is withheld from dockerd).
cap privileged-equiv --cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined \
	--security-opt apparmor=unconfined --security-opt systempaths=unconfined
cap fuse --device /dev/fuse
cap host-mounts -v /:/host:ro -v /proc:/hostproc -v /sys:/hostsys -v /run:/hostrun -v /dev:/hostdev -v /sys/fs/cgroup:/hostcg
cat /proc/1/status >"$out/status/host-init"
cat /proc/1/mountinfo >"$out/mountinfo/host-init"
cat /proc/1/cgroup >"$out/cgroup/host-v1"
unshare -U --map-root-user cat /proc/self/uid_map >"$out/idmap/map-root-user"
unshare -U cat /proc/self/uid_map >"$out/idmap/unwritten"
