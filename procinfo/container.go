package procinfo

import (
	"strings"
)

// Container is the container a task runs in, as its cgroup path names it.
// Container engines put each container in a cgroup whose last component
// carries the 64-hex-digit container id; nothing else in /proc says
// "container", and the name is not in the path (the engine's API has it).
type Container struct {
	Engine string `json:"engine"`         // docker, podman, containerd, cri-o or kubernetes
	ID     string `json:"id"`             // the full 64-hex-digit id
	Name   string `json:"name,omitempty"` // from the engine's API; empty when it was not asked or not reachable
	Cgroup string `json:"cgroup"`         // the cgroup path the id was read from
}

// ShortID is the 12-digit id that docker ps and podman ps print.
func (c Container) ShortID() string { return c.ID[:12] }

// cgroupLayouts are the engines' cgroup naming schemes, for a path
// component comp and, for cgroupfs layouts, the component before it:
//
//	docker, cgroupfs driver:  /docker/ID   (nested: /docker/ID/docker/ID)
//	docker, systemd driver:   /system.slice/docker-ID.scope
//	podman:                   /machine.slice/libpod-ID.scope[/container], /libpod_parent/libpod-ID
//	containerd (CRI, nerdctl): cri-containerd-ID.scope, nerdctl-ID.scope
//	CRI-O:                    crio-ID.scope
//	kubelet, cgroupfs driver: /kubepods/QOS/podUID/ID (the runtime is not named)
//
// podman's libpod-conmon-ID.scope and CRI-O's crio-conmon-ID.scope hold
// the engine's monitor process, which runs outside the container's
// namespaces, so they are not recognised.
func cgroupLayout(prev, comp string) (engine, id string) {
	for _, l := range []struct{ prefix, engine string }{
		{"docker-", "docker"},
		{"libpod-", "podman"},
		{"cri-containerd-", "containerd"},
		{"nerdctl-", "containerd"},
		{"crio-", "cri-o"},
	} {
		if rest, ok := strings.CutPrefix(comp, l.prefix); ok {
			rest = strings.TrimSuffix(rest, ".scope")
			if isContainerID(rest) {
				return l.engine, rest
			}
		}
	}
	if !isContainerID(comp) {
		return "", ""
	}
	switch {
	case prev == "docker":
		return "docker", comp
	case strings.HasPrefix(prev, "pod"):
		return "kubernetes", comp
	}
	return "", ""
}

// isContainerID reports whether s is a full container id: 64 lower-case
// hex digits, the form every engine above uses in cgroup paths.
func isContainerID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ContainerFromCgroupPath recognises a container in one cgroup path. For
// nested containers (docker in docker) the innermost one is returned: it
// is the one whose namespaces the task is in.
func ContainerFromCgroupPath(path string) (Container, bool) {
	comps := strings.Split(path, "/")
	for i := len(comps) - 1; i >= 0; i-- {
		prev := ""
		if i > 0 {
			prev = comps[i-1]
		}
		if engine, id := cgroupLayout(prev, comps[i]); id != "" {
			return Container{Engine: engine, ID: id, Cgroup: strings.Join(comps[:i+1], "/")}, true
		}
	}
	return Container{}, false
}

// ContainerFromCgroups recognises a container from a task's cgroup lines:
// the cgroup v2 line first (the only one on a v2 host, where engines
// create their cgroups), then the v1 hierarchies in file order. Paths are
// relative to the reader's cgroup namespace: a reader inside the
// container's own cgroup namespace sees "/" and recognises nothing.
func ContainerFromCgroups(cgs []Cgroup) (Container, bool) {
	for _, v2 := range []bool{true, false} {
		for _, cg := range cgs {
			if (cg.HierarchyID == 0) != v2 {
				continue
			}
			if c, ok := ContainerFromCgroupPath(cg.Path); ok {
				return c, true
			}
		}
	}
	return Container{}, false
}

// Container returns the container the task runs in, or nil when its
// cgroup paths name none.
func (p *Proc) Container() (*Container, error) {
	cgs, err := p.Cgroups()
	if err != nil {
		return nil, err
	}
	if c, ok := ContainerFromCgroups(cgs); ok {
		return &c, nil
	}
	return nil, nil
}
