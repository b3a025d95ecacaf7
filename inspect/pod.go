package inspect

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nsinspect/nsinspect/engine"
	"github.com/nsinspect/nsinspect/sharing"
)

// PodNotes says what a Kubernetes pod's container shares by design, so
// that a reader of audit does not take it for a breach: the containers
// of one pod join its sandbox's net, ipc and uts namespaces (and pid
// with shareProcessNamespace), which the OCI spec containerd's CRI
// plugin wrote names by path (/proc/SANDBOX/ns/TYPE); a hostNetwork pod
// runs in the node's net and uts namespaces, which a container's own
// spec cannot show (it joins them through its sandbox's by path, like
// any pod's): Pod.HostNetwork is the sandbox's word. Nothing for a
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
	var joined, held, host []string
	for _, m := range modes {
		switch {
		case c.Pod.HostNetwork && (m.name == "net" || m.name == "uts"):
			// The sandbox's are the node's: said below.
		case m.mode == "host":
			host = append(host, m.name)
		case c.Pod.Sandbox && m.mode != "" && m.name != "pid":
			// The sandbox's own, or CNI's network namespace by path.
			held = append(held, m.name)
		case strings.HasPrefix(m.mode, "ns:"):
			joined = append(joined, m.name)
		}
	}
	var notes []string
	if len(held) > 0 {
		notes = append(notes, fmt.Sprintf("%s: this is its sandbox, which holds the pod's %s namespaces for its containers to join by design (pid too with shareProcessNamespace)",
			pod, strings.Join(held, ", ")))
	}
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

// notePodSharing says, on each namespace compare found shared between
// two containers of one pod (or a container and its pod's sandbox), that
// the pod shares it on purpose, with why: its containers join the
// sandbox's net, ipc and uts namespaces (and pid with
// shareProcessNamespace), or the pod's spec asks for the node's
// (hostNetwork, hostIPC, hostPID). The containers' specs (Declared) say
// which; the kernel's verdict stays as it is. A namespace the specs do
// not account for gets no note: sharing it is not the pod's doing.
func notePodSharing(r *sharing.Report) {
	a, b := r.A.Container, r.B.Container
	if a == nil || b == nil || a.Pod.Name == "" || a.Key() == b.Key() || !samePod(a.Pod, b.Pod) {
		return
	}
	pod := fmt.Sprintf("pod %s/%s", a.Pod.Namespace, a.Pod.Name)
	byWhy := map[string][]string{}
	var order []string
	for _, name := range podNamespaces {
		res, ok := r.Resource(name)
		if !ok || res.Shared == nil || !*res.Shared {
			continue
		}
		why := podShares(a, b, name)
		if why == "" {
			continue
		}
		if byWhy[why] == nil {
			order = append(order, why)
		}
		byWhy[why] = append(byWhy[why], name)
	}
	notes := map[string]string{}
	for _, why := range order {
		names := byWhy[why]
		list := strings.Join(names, ", ")
		var note string
		switch why {
		case "sandbox":
			extra := ""
			if slices.Contains(names, "pid") {
				extra = "; pid with shareProcessNamespace"
			}
			note = fmt.Sprintf("%s: its containers join the pod sandbox's %s namespaces by design (Kubernetes pods share them%s), so sharing them is the pod's, not a breach", pod, list, extra)
		case "hostNetwork":
			note = fmt.Sprintf("%s is hostNetwork: its containers run in the node's %s namespaces by design, as its spec asks", pod, list)
		case "host":
			note = fmt.Sprintf("%s: its spec asks for the node's %s namespaces (hostIPC, hostPID), so its containers share them by design", pod, list)
		}
		for _, n := range names {
			notes[n] = note
		}
	}
	for i := range r.Resources {
		res := &r.Resources[i]
		if note, ok := notes[res.Name]; ok {
			if res.Note != "" {
				note = res.Note + "; " + note
			}
			res.Note = note
		}
	}
}

// podNamespaces are the namespaces a pod's spec decides for its
// containers, in the order its notes name them.
var podNamespaces = []string{"net", "ipc", "uts", "pid"}

// samePod: two containers' pods are one, by UID when both have one.
func samePod(a, b engine.Pod) bool {
	if a.UID != "" && b.UID != "" {
		return a.UID == b.UID
	}
	return a.Namespace == b.Namespace && a.Name == b.Name
}

// podShares is why two containers of one pod share namespace name by
// their specs: "sandbox" when each is the sandbox or joins the
// sandbox's by path (ns:/proc/SANDBOX/ns/TYPE), "hostNetwork" for net
// and uts of a hostNetwork pod, "host" when both specs ask for the
// node's ipc or pid (hostIPC, hostPID); "" when the specs do not account
// for it.
func podShares(a, b *engine.Container, name string) string {
	if (name == "net" || name == "uts") && a.Pod.HostNetwork && b.Pod.HostNetwork {
		// The sandbox's are the node's, and the containers join them by
		// path like any pod's (Pod.HostNetwork is the sandbox's).
		return "hostNetwork"
	}
	ka, kb := podNSKind(a, name), podNSKind(b, name)
	switch {
	case ka == "" || kb == "" || ka != kb && (ka == "host" || kb == "host"):
		return ""
	case ka == "host":
		if name == "ipc" || name == "pid" {
			return "host"
		}
		return ""
	case ka == "sandbox" && kb == "sandbox":
		return "" // one sandbox is one container: never compared with itself here
	}
	return "sandbox"
}

// podNSKind is how a pod's container has namespace name by its spec:
// "sandbox" for the sandbox's own (the namespaces it holds for the pod),
// "joined" for a container that joins one by path, "host" for the
// node's, "" for one of its own or unknown.
func podNSKind(c *engine.Container, name string) string {
	mode := map[string]string{"net": c.Declared.NetworkMode, "ipc": c.Declared.IpcMode,
		"uts": c.Declared.UTSMode, "pid": c.Declared.PidMode}[name]
	switch {
	case mode == "host":
		return "host"
	case c.Pod.Sandbox && mode != "":
		return "sandbox"
	case strings.HasPrefix(mode, "ns:"):
		return "joined"
	}
	return ""
}
