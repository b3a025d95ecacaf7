package engine

import (
	"strings"

	"github.com/nsinspect/nsinspect/procinfo"
)

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
// chose. Match recognises those from podman's conmon and runc's
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

// FromCgroupPath recognises a container in one cgroup path; nil for
// none. For nested containers (docker in docker) the innermost one is
// returned: it is the one whose namespaces the task is in.
func FromCgroupPath(path string) *Container {
	comps := strings.Split(path, "/")
	for i := len(comps) - 1; i >= 0; i-- {
		prev := ""
		if i > 0 {
			prev = comps[i-1]
		}
		if engine, id := cgroupLayout(prev, comps[i]); id != "" {
			return &Container{Engine: engine, ID: id, Via: "cgroup", Cgroup: strings.Join(comps[:i+1], "/")}
		}
	}
	return nil
}

// FromCgroups recognises a container from a task's cgroup lines (nil for none):
// the cgroup v2 line first (the only one on a v2 host, where engines
// create their cgroups), then the v1 hierarchies in file order. Paths are
// relative to the reader's cgroup namespace: a reader inside the
// container's own cgroup namespace sees "/" and recognises nothing.
func FromCgroups(cgs []procinfo.Cgroup) *Container {
	for _, v2 := range []bool{true, false} {
		for _, cg := range cgs {
			if (cg.HierarchyID == 0) != v2 {
				continue
			}
			if c := FromCgroupPath(cg.Path); c != nil {
				return c
			}
		}
	}
	return nil
}
