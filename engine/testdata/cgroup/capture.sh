#!/usr/bin/env bash
# Recaptures engine/testdata/cgroup (as root, from the repository root,
# with a Docker engine and the nsinspect image: `make image` first). Every
# fixture is a real /proc/PID/cgroup file.
#
# docker-*: processes of real containers started by this machine's engine
# (cgroupfs driver, cgroup v1+v2 hybrid). The other engines' layouts
# (systemd driver, podman, containerd CRI, CRI-O, kubepods) cannot run
# here, so their documented cgroup paths are made as real cgroup v2
# directories and a sleep is moved into each: the kernel writes the file.
#
# podman-rootful-cgroupfs-v1, podman-rootful-conmon-v1 (its conmon),
# podman-rootless-v1 and runc-default-v1 are real too, copied from
# /proc/PID/cgroup of the containers integration/engines_helpers_test.go
# starts (podman 4.3.1 with the cgroupfs manager, runc 1.1.5 from a bundle
# with no cgroupsPath, on this cgroup v1 host): `go test -run
# TestEngines -v` there logs each container's host PID.
set -euo pipefail
out=$(cd "$(dirname "$0")" && pwd)

hold() { docker run -d --rm "$@" nsinspect hold; }
pidof_c() { docker inspect -f '{{.State.Pid}}' "$1"; }

c=$(hold)
cp "/proc/$(pidof_c "$c")/cgroup" "$out/docker-cgroupfs-v1-hybrid"
c2=$(hold --cgroupns private)
cp "/proc/$(pidof_c "$c2")/cgroup" "$out/docker-cgroupns-private-from-host"
# The same process as a reader in its own cgroup namespace sees it: "/".
p2=$(pidof_c "$c2")
nsenter --cgroup -t "$p2" cat "/proc/$p2/cgroup" >"$out/docker-cgroupns-private-from-inside"
docker stop "$c" "$c2" >/dev/null

unified=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
id=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
while read -r name path; do
	dir="$unified$path"
	# top: the outermost directory this loop creates, the only ones it removes.
	top=$dir
	while [ ! -d "$(dirname "$top")" ]; do top=$(dirname "$top"); done
	mkdir -p "$dir"
	sleep 100 &
	pid=$!
	echo "$pid" >"$dir/cgroup.procs"
	cp "/proc/$pid/cgroup" "$out/$name"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	while rmdir "$dir" && [ "$dir" != "$top" ]; do dir=$(dirname "$dir"); done
done <<LIST
docker-systemd /system.slice/docker-$id.scope
podman-systemd /machine.slice/libpod-$id.scope/container
podman-conmon /machine.slice/libpod-conmon-$id.scope
podman-cgroupfs /libpod_parent/libpod-$id
cri-containerd /kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1a2b.slice/cri-containerd-$id.scope
crio /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1a2b.slice/crio-$id.scope
kubepods-cgroupfs /kubepods/besteffort/pod1a2b3c4d-0000-1111-2222-333344445555/$id
docker-in-docker /docker/fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210/docker/$id
LIST
