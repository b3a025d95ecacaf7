package main

import (
	"context"

	"github.com/nsinspect/nsinspect/engine"
	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/procinfo"
)

// containerNames recognises the container a task runs in and asks its
// engine for the name at most once per container and run: a run that
// inspects host processes never touches an engine's socket.
type containerNames struct {
	known map[string]procinfo.Container // engine/id -> what the engine said
}

// identify fills c from the engine, or from this run's earlier ask. An
// engine that cannot be asked leaves a note: the id is the identity.
func (n *containerNames) identify(c *procinfo.Container) {
	if c == nil {
		return
	}
	key := c.Engine + "/" + c.ID
	if k, ok := n.known[key]; ok {
		c.Name, c.Image, c.Labels, c.Rootless, c.Note = k.Name, k.Image, k.Labels, k.Rootless, k.Note
		return
	}
	engine.Identify(context.Background(), c)
	if n.known == nil {
		n.known = map[string]procinfo.Container{}
	}
	n.known[key] = *c
}

// fromCgroups is the container task pid runs in, recognised from its
// cgroup lines (read through its pin) or, where they name none, from
// podman's conmon or runc's state; nil for none.
func (n *containerNames) fromCgroups(pid int, cgs []procinfo.Cgroup) *procinfo.Container {
	c := engine.Match(pid, cgs)
	n.identify(c)
	return c
}

// of is the container the task runs in, its cgroup file read through its pin.
func (n *containerNames) of(p *procinfo.Proc) (*procinfo.Container, error) {
	cgs, err := p.Cgroups()
	if err != nil {
		return nil, err
	}
	c := n.fromCgroups(p.PID, cgs)
	// Recognition read other files by number: the pin says whether the
	// task is still the one it was.
	if err := p.Alive(); err != nil {
		return nil, err
	}
	return c, nil
}

// containerDetail is show's container row: the label, where it was
// recognised, and why the engine was not asked when it was not.
func containerDetail(c *procinfo.Container) string {
	s := inspect.ContainerLabel(c)
	switch {
	case c.Cgroup != "":
		s += ", cgroup " + c.Cgroup
	case c.Via == "conmon":
		s += ", from podman's conmon (no cgroup of its own)"
	case c.Via == "runc-state":
		s += ", from runc's state"
	}
	if c.Note != "" {
		s += " [" + c.Note + "]"
	}
	return s
}
