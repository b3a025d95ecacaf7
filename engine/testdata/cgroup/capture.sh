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

# cri-containerd-systemd-v1*: containerd (runc) with the systemd cgroup
# driver on cgroup v1, kubelet's kubepods.slice with a real pod UID (its
# dashes as underscores): runc's systemd manager puts the container in
# its scope in every v1 hierarchy, name=systemd's included. This host's
# containerd uses cgroupfs, so the same paths are made in each v1
# hierarchy and a sleep is moved into each; the unified hierarchy is left
# alone (systemd's legacy mode), so only the v1 lines name the container.
uid=0f6c1f6e_8d3a_4b7e_9f58_2a1d3c4b5e6f
v1=$(awk '$9 == "cgroup" {print $5}' /proc/self/mountinfo)
while read -r name path; do
	sleep 100 &
	pid=$!
	made=()
	for h in $v1; do
		dir=$h
		for comp in ${path//\// }; do
			dir=$dir/$comp
			[ -d "$dir" ] && continue
			mkdir "$dir"
			made+=("$dir")
			# A new cpuset has no cpus or mems to run on: its parent's.
			if [ -f "$dir/cpuset.cpus" ]; then
				cat "$(dirname "$dir")/cpuset.cpus" >"$dir/cpuset.cpus"
				cat "$(dirname "$dir")/cpuset.mems" >"$dir/cpuset.mems"
			fi
		done
		echo "$pid" >"$dir/cgroup.procs"
	done
	cp "/proc/$pid/cgroup" "$out/$name"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	for ((i = ${#made[@]} - 1; i >= 0; i--)); do rmdir "${made[$i]}"; done
done <<LIST
cri-containerd-systemd-v1 /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod$uid.slice/cri-containerd-$id.scope
cri-containerd-systemd-v1-guaranteed /kubepods.slice/kubepods-pod$uid.slice/cri-containerd-$id.scope
LIST
