package main

import (
	"context"
	"fmt"

	"github.com/nsinspect/nsinspect/internal/dockerapi"
	"github.com/nsinspect/nsinspect/procinfo"
)

// containerNames asks the Docker engine for names at most once per run,
// and only when a docker container was recognised: a run that inspects
// host processes never touches the socket.
type containerNames struct {
	asked bool
	names map[string]string
}

// fill sets c.Name from the engine when it knows the container. Failure
// leaves the name empty: the id from the cgroup path is the identity.
func (n *containerNames) fill(c *procinfo.Container) {
	if c == nil || c.Engine != "docker" {
		return
	}
	if !n.asked {
		n.asked = true
		n.names, _ = dockerapi.Names(context.Background())
	}
	c.Name = n.names[c.ID]
}

// fromCgroups is the container the cgroup lines name, with its
// name when the engine gives it; nil for none.
func (n *containerNames) fromCgroups(cgs []procinfo.Cgroup) *procinfo.Container {
	c, ok := procinfo.ContainerFromCgroups(cgs)
	if !ok {
		return nil
	}
	n.fill(&c)
	return &c
}

// of is the container the task runs in, read from its cgroup file's cgroup file through its pin.
func (n *containerNames) of(p *procinfo.Proc) (*procinfo.Container, error) {
	c, err := p.Container()
	if err != nil {
		return nil, err
	}
	n.fill(c)
	return c, nil
}

// containerLabel is a container in one phrase: "docker container
// 4b43b7e2d9b9 (web)".
func containerLabel(c *procinfo.Container) string {
	s := fmt.Sprintf("%s container %s", c.Engine, c.ShortID())
	if c.Name != "" {
		s += " (" + c.Name + ")"
	}
	return s
}
