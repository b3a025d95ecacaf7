package procinfo

import (
	"strings"
)

// Container is the container a task runs in. This package recognises it
// from the cgroup path (ContainerFromCgroups): engines put each container
// in a cgroup whose last component carries the 64-hex-digit container id.
// Where no cgroup names it (rootless podman on cgroup v1, plain runc),
// the engine package recognises it from podman's conmon or runc's state, and
// it fills the name, image and labels from the engine.
type Container struct {
	Engine   string            `json:"engine"`           // docker, podman, runc, containerd, cri-o or kubernetes
	ID       string            `json:"id"`               // the engine's full id: 64 hex digits, or runc's own id
	Name     string            `json:"name,omitempty"`   // from the engine; empty when it could not be asked
	Image    string            `json:"image,omitempty"`  // as the engine names it
	Labels   map[string]string `json:"labels,omitempty"` // the engine's labels
	Rootless bool              `json:"rootless,omitempty"`
	User     string            `json:"user,omitempty"`   // a rootless container's owner
	Via      string            `json:"via"`              // how it was recognised: cgroup, conmon or runc-state
	Cgroup   string            `json:"cgroup,omitempty"` // the cgroup path the id was read from; empty when none names it
	Note     string            `json:"note,omitempty"`   // why the engine could not be asked, when it could not
}

// ShortID is the 12-digit id that docker ps and podman ps print; an id
// that is not 64 hex digits (runc's, which its user chose) is whole.
func (c Container) ShortID() string {
	if !isContainerID(c.ID) {
		return c.ID
	}
	return c.ID[:12]
}

// cgroupLayouts are the engines' cgroup naming schemes, for a path
// component comp and, for cgroupfs layouts, the component before it:
//
//	docker, cgroupfs driver:  /docker/ID   (nested: /docker/ID/docker/ID)
//	docker, systemd driver:   /system.slice/docker-ID.scope
//	podman, systemd manager:  /machine.slice/libpod-ID.scope[/container]
//	podman, cgroupfs manager: /libpod_parent/libpod-ID (seen on every v1 hierarchy and on v2)
//	containerd (CRI, nerdctl): cri-containerd-ID.scope, nerdctl-ID.scope
//	CRI-O:                    crio-ID.scope
//	kubelet, cgroupfs driver: /kubepods/QOS/podUID/ID (the runtime is not named)
//
// podman's libpod-conmon-ID.scope (/libpod_parent/conmon with cgroupfs)
// and CRI-O's crio-conmon-ID.scope hold the engine's monitor process,
// which runs outside the container's namespaces, so they are not
// recognised. Two kinds of container have no such path: rootless podman
// on cgroup v1, which cannot make cgroups and leaves the container in its
// user's; and plain runc, whose default cgroup is /ID with an id its user
// chose. the engine package recognises those from podman's conmon and runc's
// state directory.
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
			return Container{Engine: engine, ID: id, Via: "cgroup", Cgroup: strings.Join(comps[:i+1], "/")}, true
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
