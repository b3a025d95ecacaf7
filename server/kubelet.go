package server

import (
	"errors"
	"io/fs"
	"os"
	"strings"
)

// Kubelet reads pod and container names from the log directories kubelet
// keeps on every node, by their names only (no file is opened):
//
//	/var/log/pods/<namespace>_<pod>_<uid>/<container>/   one per pod
//	/var/log/containers/<pod>_<namespace>_<container>-<id>.log   one per container (a symlink)
//
// Namespaces, pod names and container names are DNS-1123 labels or
// subdomains, which cannot hold "_", so the names split unambiguously.
// A pod's sandbox ("pause") container has no log and so no name.
type Kubelet struct {
	PodsDir       string // "" reads none
	ContainersDir string // "" reads none
}

// DefaultKubelet is where kubelet puts its logs.
var DefaultKubelet = Kubelet{PodsDir: "/var/log/pods", ContainersDir: "/var/log/containers"}

type podName struct{ namespace, name string }

type containerLog struct {
	namespace, pod, container string
}

// name fills the pod and container names of list from the directories.
// A directory that does not exist is not an error (a host without
// kubelet); one that cannot be read is counted.
func (k Kubelet) name(p *Pass, list []*Observed) {
	var pods map[string]podName
	var logs map[string]containerLog
	for _, c := range list {
		if c.Pod.UID == "" {
			continue
		}
		if pods == nil {
			pods, logs = map[string]podName{}, map[string]containerLog{}
			k.read(p, k.PodsDir, func(n string) { readPodDir(n, pods) })
			k.read(p, k.ContainersDir, func(n string) { readContainerLog(n, logs) })
		}
		if pn, ok := pods[c.Pod.UID]; ok {
			c.Pod.Namespace, c.Pod.Name = pn.namespace, pn.name
		}
		if l, ok := logs[c.ID]; ok {
			c.Pod.Namespace, c.Pod.Name, c.Pod.Container, c.Name = l.namespace, l.pod, l.container, l.container
		}
	}
}

func (k Kubelet) read(p *Pass, dir string, each func(string)) {
	if dir == "" {
		return
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			p.Fail("kubelet_logs")
		}
		return
	}
	for _, e := range ents {
		each(e.Name())
	}
}

// readPodDir parses "<namespace>_<pod>_<uid>".
func readPodDir(name string, pods map[string]podName) {
	f := strings.Split(name, "_")
	if len(f) == 3 && isUID(f[2]) && f[0] != "" && f[1] != "" {
		pods[f[2]] = podName{f[0], f[1]}
	}
}

// readContainerLog parses "<pod>_<namespace>_<container>-<id>.log".
func readContainerLog(name string, logs map[string]containerLog) {
	base, ok := strings.CutSuffix(name, ".log")
	if !ok {
		return
	}
	i := strings.LastIndexByte(base, '-')
	if i < 0 || len(base)-i-1 != 64 {
		return
	}
	id := base[i+1:]
	f := strings.Split(base[:i], "_")
	if len(f) != 3 || f[0] == "" || f[1] == "" || f[2] == "" {
		return
	}
	logs[id] = containerLog{namespace: f[1], pod: f[0], container: f[2]}
}
