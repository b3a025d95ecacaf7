// Package engine asks container engines about their containers: by name
// (Lookup, for a docker:NAME, podman:NAME or runc:ID target), by process
// (Recognize and Identify, for the container of show, compare and audit),
// and for every name at once (DockerNames, for serve's passes). It is the
// one client of each engine, and it sits above procinfo: it reads tasks
// to recognise their containers; procinfo knows nothing of engines.
//
// The interfaces it reads, and nothing else:
//
//   - Docker: the Engine API over its unix socket, GET /containers/NAME/json
//     and GET /containers/json (https://docs.docker.com/reference/api/engine/),
//     at DOCKER_HOST's unix:// path or /var/run/docker.sock.
//   - Podman: the same Docker-compatible endpoint on podman's API socket
//     (`podman system service`: /run/podman/podman.sock for root,
//     $XDG_RUNTIME_DIR/podman/podman.sock for a user), else the CLI,
//     `podman inspect --format json` (podman-inspect(1)), run with the
//     container owner's uid for a rootless container of another user.
//   - runc: its state directory (/run/runc/ID/state.json for root,
//     $XDG_RUNTIME_DIR/runc for a user: runc(8) --root) and the bundle's
//     config.json (the OCI runtime spec,
//     https://github.com/opencontainers/runtime-spec/blob/main/config.md).
//   - conmon, podman's per-container monitor: its command line (-c ID,
//     -n NAME) names the container whose init it is the parent of; on a
//     cgroup v1 host a rootless container has no cgroup of its own, so this
//     is how it is recognised at all.
//
// Every ask is bounded (Timeout): an engine that hangs fails the ask, never
// nsinspect.
package engine
