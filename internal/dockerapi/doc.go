// Package dockerapi asks a Docker engine for its containers' names over
// its unix socket (the Engine API's GET /containers/json). It is optional
// by design: a container is recognised from its cgroup path alone
// (procinfo.Container); the engine only adds the name a user gave it, so
// every failure here means "no names", never a failed command.
//
// The Engine API is plain HTTP on /var/run/docker.sock (or DOCKER_HOST's
// unix:// path): https://docs.docker.com/reference/api/engine/.
package dockerapi
