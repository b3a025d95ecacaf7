package engine

// Container is one container: what recognition found from the host (its
// engine, id and how: Via, Cgroup) and what its engine says of it (name,
// image, labels, pod). Lookup fills the whole of it from the engine;
// Match fills what the host shows and Identify asks the engine for the
// rest. It is the JSON contract of a task's "container" (schema
// common.json); Status, PID and Declared are Lookup's answer for the core
// and are not part of it.
type Container struct {
	Engine string `json:"engine"` // docker, podman, runc, containerd, cri-o or kubernetes
	ID     string `json:"id"`     // the engine's full id: 64 hex digits, or the id its user chose (runc, ctr)
	// Name is the engine's name; a CRI container's is kubelet's container
	// name. Empty when the engine could not be asked. runc's is its id.
	Name   string            `json:"name,omitempty"`
	Image  string            `json:"image,omitempty"`  // as the engine names it
	Labels map[string]string `json:"labels,omitempty"` // the engine's labels
	// Namespace is the containerd namespace the container lives in
	// (k8s.io for kubelet's); empty for other engines.
	Namespace string `json:"namespace,omitempty"`
	// Pod is the Kubernetes pod a CRI-made container belongs to, from
	// kubelet's labels; zero outside Kubernetes.
	Pod      Pod    `json:"pod,omitzero"`
	Rootless bool   `json:"rootless,omitempty"` // run by an unprivileged user's engine
	User     string `json:"user,omitempty"`     // a rootless container's owner
	// Via is how it was recognised: cgroup, conmon, runc-state or
	// containerd-tasks; empty when it was named (Lookup).
	Via    string `json:"via"`
	Cgroup string `json:"cgroup,omitempty"` // the cgroup path the id was read from; empty when none names it
	Note   string `json:"note,omitempty"`   // why the engine could not be asked, when it could not

	Status   string   `json:"-"` // the engine's word: running, exited, created, ...
	PID      int      `json:"-"` // its init process, as the host numbers it
	Declared Declared `json:"-"`
}

// Pod is a Kubernetes pod as kubelet labels the containers it makes
// through CRI (io.kubernetes.pod.*), with the container's name in it.
type Pod struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	UID       string `json:"uid,omitempty"`
	Container string `json:"container,omitempty"` // "" for the pod's sandbox
	// Sandbox is set for the pod's sandbox ("pause") container, which
	// holds the namespaces the pod's containers share.
	Sandbox bool `json:"sandbox,omitempty"`
	// HostNetwork is set when the pod runs in the node's network (and
	// UTS) namespace: hostNetwork: true.
	HostNetwork bool `json:"host_network,omitempty"`
}

// The labels kubelet puts on every container it asks CRI to make
// (kubelet's pkg/kubelet/types/labels.go), which containerd's CRI plugin
// keeps on the containerd container, beside its own kind label.
const (
	LabelPodName       = "io.kubernetes.pod.name"
	LabelPodNamespace  = "io.kubernetes.pod.namespace"
	LabelPodUID        = "io.kubernetes.pod.uid"
	LabelContainerName = "io.kubernetes.container.name"
	labelCRIKind       = "io.cri-containerd.kind" // "sandbox" or "container"
)

// PodOf reads the pod from a CRI container's labels; zero when they name
// none.
func PodOf(labels map[string]string) Pod {
	p := Pod{Namespace: labels[LabelPodNamespace], Name: labels[LabelPodName], UID: labels[LabelPodUID]}
	if p.Name == "" {
		return Pod{}
	}
	p.Container = labels[LabelContainerName]
	p.Sandbox = labels[labelCRIKind] == "sandbox"
	return p
}

// ShortID is the 12-digit id that docker ps and podman ps print; an id
// that is not 64 hex digits (runc's, which its user chose) is whole.
func (c Container) ShortID() string {
	if !isContainerID(c.ID) {
		return c.ID
	}
	return c.ID[:12]
}

// Key names the container across engines: ENGINE/ID.
func (c Container) Key() string { return c.Engine + "/" + c.ID }
