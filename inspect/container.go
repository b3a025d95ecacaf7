package inspect

import (
	"context"

	"github.com/nsinspect/nsinspect/engine"
	"github.com/nsinspect/nsinspect/procinfo"
)

// ContainerNames recognises the container a task runs in and asks its
// engine for the name at most once per container and run: a run that
// inspects host processes never touches an engine's socket.
type ContainerNames struct {
	known map[string]engine.Container // engine/id -> what the engine said
}

// Identify fills c from the engine, or from this run's earlier ask. An
// engine that cannot be asked leaves a note: the id is the identity.
func (n *ContainerNames) Identify(c *engine.Container) {
	if c == nil {
		return
	}
	key := c.Key()
	if k, ok := n.known[key]; ok {
		// What the engine said; how this task was recognised stays its own.
		via, cgroup := c.Via, c.Cgroup
		*c = k
		c.Via, c.Cgroup = via, cgroup
		return
	}
	engine.Identify(context.Background(), c)
	if n.known == nil {
		n.known = map[string]engine.Container{}
	}
	n.known[key] = *c
}

// FromCgroups is the container task pid runs in, recognised from its
// cgroup lines (read through its pin) or, where they name none, from
// podman's conmon or runc's state; nil for none.
func (n *ContainerNames) FromCgroups(pid int, cgs []procinfo.Cgroup) *engine.Container {
	c := engine.Match(pid, cgs)
	n.Identify(c)
	return c
}

// Of is the container the task runs in, its cgroup file read through its pin.
func (n *ContainerNames) Of(p *procinfo.Proc) (*engine.Container, error) {
	cgs, err := p.Cgroups()
	if err != nil {
		return nil, err
	}
	c := n.FromCgroups(p.PID, cgs)
	// Recognition read other files by number: the pin says whether the
	// task is still the one it was.
	if err := p.Alive(); err != nil {
		return nil, err
	}
	return c, nil
}
