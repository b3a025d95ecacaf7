package inspect

import (
	"fmt"
	"strings"

	"github.com/nsinspect/nsinspect/engine"
)

// PodNotes says what a Kubernetes pod's container shares by design, so
// that a reader of audit does not take it for a breach: the containers
// of one pod join its sandbox's net, ipc and uts namespaces (and pid
// with shareProcessNamespace), which the OCI spec containerd's CRI
// plugin wrote names by path (/proc/SANDBOX/ns/TYPE); a hostNetwork pod
// runs in the node's net and uts namespaces, which its spec leaves out.
// (a pod container joins them through its sandbox's, so its own spec
// does not show it: Pod.HostNetwork is the sandbox's). Nothing for a
// container that is not a pod's.
func PodNotes(c *engine.Container) []string {
	if c == nil || c.Pod.Name == "" {
		return nil
	}
	pod := fmt.Sprintf("pod %s/%s", c.Pod.Namespace, c.Pod.Name)
	d := c.Declared
	modes := []struct{ name, mode string }{
		{"net", d.NetworkMode}, {"ipc", d.IpcMode}, {"uts", d.UTSMode}, {"pid", d.PidMode},
	}
	var joined, host []string
	for _, m := range modes {
		switch {
		case c.Pod.HostNetwork && (m.name == "net" || m.name == "uts"):
			// The sandbox's are the node's: said below.
		case strings.HasPrefix(m.mode, "ns:"):
			joined = append(joined, m.name)
		case m.mode == "host":
			host = append(host, m.name)
		}
	}
	var notes []string
	if len(joined) > 0 && !c.Pod.Sandbox {
		notes = append(notes, fmt.Sprintf("%s: this container joins its pod sandbox's %s namespaces by design (Kubernetes pods share them), so they are the pod's, not a breach",
			pod, strings.Join(joined, ", ")))
	}
	if c.Pod.HostNetwork {
		notes = append(notes, fmt.Sprintf("%s is hostNetwork: it runs in the node's net and uts namespaces as its spec asks", pod))
	}
	if len(host) > 0 {
		notes = append(notes, fmt.Sprintf("%s: its spec asks for the node's %s namespaces (hostPID/hostIPC, or a runtime default)", pod, strings.Join(host, ", ")))
	}
	return notes
}
