package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
)

// ContainerdSockets are where containerd listens, tried in order: its
// own default, then k3s's and microk8s's. --containerd-socket sets
// ContainerdSocket instead, and then only that one is asked.
var ContainerdSockets = []string{
	"/run/containerd/containerd.sock",
	"/run/k3s/containerd/containerd.sock",
	"/var/snap/microk8s/common/run/containerd.sock",
}

// ContainerdSocket, when set, is the one containerd socket asked.
var ContainerdSocket string

// The containerd namespaces nsinspect treats apart: kubelet's CRI
// containers live in k8s.io, which an unqualified containerd:ID tries
// first; Docker's in moby, where Docker's identity wins (they are docker
// containers, asked of Docker, and never listed twice).
const (
	CRINamespace    = "k8s.io"
	DockerNamespace = "moby"
)

// containerdSocket is the socket to ask: ContainerdSocket, else the
// first of ContainerdSockets that exists.
func containerdSocket() (string, error) {
	if ContainerdSocket != "" {
		if _, err := os.Stat(ContainerdSocket); err != nil {
			return ContainerdSocket, because(ErrNoEngine, "containerd's socket %s is absent (%v): check --containerd-socket", ContainerdSocket, unwrapPath(err))
		}
		return ContainerdSocket, nil
	}
	for _, s := range ContainerdSockets {
		if _, err := os.Stat(s); err == nil {
			return s, nil
		}
	}
	return ContainerdSockets[0], because(ErrNoEngine,
		"no containerd socket at %s: start containerd, or name its socket with --containerd-socket", strings.Join(ContainerdSockets, ", "))
}

// containerd is one containerd asked over its socket.
type containerd struct {
	sock string
	g    *grpcConn
}

func openContainerd() (*containerd, string, error) {
	sock, err := containerdSocket()
	asked := "containerd at " + sock
	if err != nil {
		return nil, asked, err
	}
	return &containerd{sock: sock, g: dialGRPC(sock)}, asked, nil
}

func (c *containerd) Close() { c.g.Close() }

func (c *containerd) namespaces(ctx context.Context) ([]string, error) {
	b, err := c.g.call(ctx, "/containerd.services.namespaces.v1.Namespaces/List", "", nil)
	if err != nil {
		return nil, err
	}
	return decodeNamespaces(b)
}

// searchOrder is the namespaces an unqualified id is looked for in:
// k8s.io first, then the others by name; never moby, whose containers
// are Docker's.
func searchOrder(all []string) []string {
	order := []string{}
	if slices.Contains(all, CRINamespace) {
		order = append(order, CRINamespace)
	}
	for _, ns := range slices.Sorted(slices.Values(all)) {
		if ns != CRINamespace && ns != DockerNamespace {
			order = append(order, ns)
		}
	}
	return order
}

func (c *containerd) container(ctx context.Context, ns, id string) (ctrContainer, error) {
	b, err := c.g.call(ctx, "/containerd.services.containers.v1.Containers/Get", ns, stringField(id))
	if err != nil {
		return ctrContainer{}, err
	}
	m, err := one(b, 1)
	if err != nil {
		return ctrContainer{}, err
	}
	return decodeCtrContainer(m)
}

func (c *containerd) list(ctx context.Context, ns string) ([]ctrContainer, error) {
	b, err := c.g.call(ctx, "/containerd.services.containers.v1.Containers/List", ns, nil)
	if err != nil {
		return nil, err
	}
	all, err := repeated(b, 1)
	if err != nil {
		return nil, err
	}
	out := make([]ctrContainer, 0, len(all))
	for _, m := range all {
		cc, err := decodeCtrContainer(m)
		if err != nil {
			return nil, err
		}
		out = append(out, cc)
	}
	return out, nil
}

// task is the container's task (its init process); ErrNotFound when it
// has none (created, never started, or deleted).
func (c *containerd) task(ctx context.Context, ns, id string) (ctrProcess, error) {
	b, err := c.g.call(ctx, "/containerd.services.tasks.v1.Tasks/Get", ns, stringField(id))
	if err != nil {
		return ctrProcess{}, err
	}
	m, err := one(b, 1)
	if err != nil {
		return ctrProcess{}, err
	}
	return decodeCtrProcess(m)
}

func (c *containerd) tasks(ctx context.Context, ns string) ([]ctrProcess, error) {
	b, err := c.g.call(ctx, "/containerd.services.tasks.v1.Tasks/List", ns, nil)
	if err != nil {
		return nil, err
	}
	all, err := repeated(b, 1)
	if err != nil {
		return nil, err
	}
	var out []ctrProcess
	for _, m := range all {
		p, err := decodeCtrProcess(m)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func (c *containerd) pids(ctx context.Context, ns, id string) ([]int, error) {
	b, err := c.g.call(ctx, "/containerd.services.tasks.v1.Tasks/ListPids", ns, stringField(id))
	if err != nil {
		return nil, err
	}
	return decodePids(b)
}

// find looks id up in namespace ns, or, when ns is "", in searchOrder.
// An id that no container has is taken for a CRI container name
// (kubelet's io.kubernetes.container.name label), which must then name
// one container only.
func (c *containerd) find(ctx context.Context, ns, id string) (ctrContainer, string, error) {
	order := []string{ns}
	if ns == "" {
		all, err := c.namespaces(ctx)
		if err != nil {
			return ctrContainer{}, "", err
		}
		order = searchOrder(all)
	}
	for _, ns := range order {
		cc, err := c.container(ctx, ns, id)
		if err == nil {
			return cc, ns, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return ctrContainer{}, ns, err
		}
	}
	var found []ctrContainer
	var where []string
	for _, ns := range order {
		list, err := c.list(ctx, ns)
		if err != nil {
			return ctrContainer{}, ns, err
		}
		for _, cc := range list {
			if cc.Labels[LabelContainerName] == id && cc.Labels[labelCRIKind] != "sandbox" {
				found, where = append(found, cc), append(where, ns)
			}
		}
	}
	switch len(found) {
	case 0:
		return ctrContainer{}, "", ErrNotFound
	case 1:
		return found[0], where[0], nil
	}
	var ids []string
	for i, cc := range found {
		p := PodOf(cc.Labels)
		ids = append(ids, fmt.Sprintf("%s/%s (pod %s/%s)", where[i], cc.ID[:min(12, len(cc.ID))], p.Namespace, p.Name))
	}
	return ctrContainer{}, "", fmt.Errorf("%w: CRI container name %q names %d containers: %s; name one by NAMESPACE/ID",
		ErrAmbiguous, id, len(found), strings.Join(ids, ", "))
}

// ErrAmbiguous is a CRI container name that more than one pod uses: the
// user must name one by id.
var ErrAmbiguous = errors.New("ambiguous container name")

// lookupContainerd takes ID or NAMESPACE/ID (ID may be a CRI container
// name). Docker's moby namespace is refused: its containers are named
// docker:NAME.
func lookupContainerd(ctx context.Context, ref string) (*Container, string, error) {
	ns, id, ok := strings.Cut(ref, "/")
	if !ok {
		ns, id = "", ref
	}
	if ns == DockerNamespace {
		return nil, "nobody", because(ErrEngine, "containerd namespace %s holds Docker's containers: name it docker:NAME", DockerNamespace)
	}
	if id == "" || strings.Contains(id, "/") {
		return nil, "nobody", ErrNotFound
	}
	cd, asked, err := openContainerd()
	if err != nil {
		return nil, asked, err
	}
	defer cd.Close()
	cc, ns, err := cd.find(ctx, ns, id)
	if err != nil {
		return nil, asked, containerdError(err)
	}
	c := cc.container(ns)
	c.Pod.HostNetwork = c.Pod.HostNetwork || cd.hostNetwork(ctx, ns, cc)
	t, err := cd.task(ctx, ns, cc.ID)
	switch {
	case errors.Is(err, ErrNotFound):
		c.Status = "created"
	case err != nil:
		return nil, asked, containerdError(err)
	default:
		c.Status = t.status()
		if c.Status == "running" || c.Status == "paused" {
			c.PID = int(t.PID)
		}
	}
	return c, asked, nil
}

// identifyContainerd asks for the container id in namespace ns, or, when
// ns is "", wherever searchOrder finds it.
func identifyContainerd(ctx context.Context, ns, id string) (*Container, string, error) {
	cd, asked, err := openContainerd()
	if err != nil {
		return nil, asked, err
	}
	defer cd.Close()
	order := []string{ns}
	if ns == "" {
		all, err := cd.namespaces(ctx)
		if err != nil {
			return nil, asked, containerdError(err)
		}
		order = searchOrder(all)
	}
	for _, ns := range order {
		cc, err := cd.container(ctx, ns, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, asked, containerdError(err)
		}
		c := cc.container(ns)
		c.Pod.HostNetwork = c.Pod.HostNetwork || cd.hostNetwork(ctx, ns, cc)
		return c, asked, nil
	}
	return nil, asked, ErrNotFound
}

// containerdError makes a refused socket match EACCES as Docker's does:
// gRPC's PermissionDenied, or the dial's own error.
func containerdError(err error) error {
	var st *grpcStatus
	if errors.As(err, &st) && st.Code == grpcPermissionDenied {
		return fmt.Errorf("%v: %w", st, fs.ErrPermission)
	}
	return err
}

// container is what nsinspect reports of a containerd container: its
// name is kubelet's container name for a CRI container, else its id
// (containerd has no names); its declared namespaces are the OCI spec's.
func (cc ctrContainer) container(ns string) *Container {
	c := &Container{Engine: "containerd", ID: cc.ID, Name: cc.ID, Image: cc.Image, Labels: cc.Labels, Namespace: ns}
	if len(c.Labels) == 0 {
		c.Labels = nil
	}
	c.Pod = PodOf(cc.Labels)
	if c.Pod.Container != "" {
		c.Name = c.Pod.Container
	}
	if c.Pod.Sandbox {
		c.Name = c.Pod.Name
	}
	c.Declared = declaredFromSpec(cc.Spec)
	if c.Pod.Name != "" && c.Declared.NetworkMode == "host" {
		c.Pod.HostNetwork = true
	}
	return c
}

// ociSpec is the part of the OCI runtime spec's config
// (https://github.com/opencontainers/runtime-spec/blob/main/config-linux.md)
// that says which namespaces a container gets.
type ociSpec struct {
	// Annotations hold, for a CRI container, its sandbox's id
	// (criSandboxID).
	Annotations map[string]string `json:"annotations"`
	Root        struct {
		Readonly bool `json:"readonly"`
	} `json:"root"`
	Process struct {
		Capabilities struct {
			Effective []string `json:"effective"`
		} `json:"capabilities"`
	} `json:"process"`
	Linux struct {
		Namespaces []specNamespace `json:"namespaces"` // types: ociTypes, and mount
	} `json:"linux"`
}

// criSandboxID is the annotation containerd's CRI plugin puts in a pod
// container's spec to name its sandbox.
const criSandboxID = "io.kubernetes.cri.sandbox-id"

// sandboxID is the id of the pod sandbox a CRI container belongs to; ""
// for a sandbox, or a container CRI did not make.
func (cc ctrContainer) sandboxID() string {
	var s ociSpec
	if len(cc.Spec) == 0 || json.Unmarshal(cc.Spec, &s) != nil || s.Annotations[criSandboxID] == cc.ID {
		return ""
	}
	return s.Annotations[criSandboxID]
}

// hostNetwork reports whether a pod container's sandbox runs in the
// node's network namespace (hostNetwork: true). A container's own spec
// cannot say: CRI joins it to the sandbox's namespace by path
// (/proc/SANDBOX/ns/net) whether that is the node's or the pod's own.
func (c *containerd) hostNetwork(ctx context.Context, ns string, cc ctrContainer) bool {
	id := cc.sandboxID()
	if id == "" {
		return false
	}
	sb, err := c.container(ctx, ns, id)
	return err == nil && declaredFromSpec(sb.Spec).NetworkMode == "host"
}

// declaredFromSpec reads the namespaces the spec asks for, in the words
// runc's state gives (see setModes).
func declaredFromSpec(spec []byte) Declared {
	var d Declared
	var s ociSpec
	if len(spec) == 0 || json.Unmarshal(spec, &s) != nil {
		return d
	}
	d.ReadonlyRootfs = s.Root.Readonly
	d.setModes(ociTypes, s.Linux.Namespaces)
	return d
}

// specNamespace is one namespace a runtime's config lists: the OCI spec's
// linux.namespaces, or runc's state.json, which spells the types its own
// way.
type specNamespace struct {
	Type string `json:"type"`
	Path string `json:"path"`
}

// ociTypes and runcTypes name the network, pid, ipc, uts, user and cgroup
// namespaces, in that order, as the OCI spec and runc's state.json do.
var (
	ociTypes  = [6]string{"network", "pid", "ipc", "uts", "user", "cgroup"}
	runcTypes = [6]string{"NEWNET", "NEWPID", "NEWIPC", "NEWUTS", "NEWUSER", "NEWCGROUP"}
)

// setModes sets d's six namespace modes from the namespaces a config
// lists, with types naming them (ociTypes or runcTypes): a type the config
// does not list is the host's (the runtime's own), one with a path joins
// that namespace ("ns:PATH", which for a pod's container is the sandbox's
// /proc/PID/ns/TYPE), one without a new one ("private").
func (d *Declared) setModes(types [6]string, listed []specNamespace) {
	modes := [6]*string{&d.NetworkMode, &d.PidMode, &d.IpcMode, &d.UTSMode, &d.UsernsMode, &d.CgroupnsMode}
	for i, m := range modes {
		*m = "host"
		for _, ns := range listed {
			if ns.Type != types[i] {
				continue
			}
			*m = "private"
			if ns.Path != "" {
				*m = "ns:" + ns.Path
			}
		}
	}
}

// containerdTaskOf finds the containerd task pid belongs to from
// containerd's task list, in every namespace but Docker's: the task's
// init, or a process ListPids names (a container's own processes; the
// runc-v2 shim that serves a whole pod is none of them). It is asked
// only when a containerd socket exists and pid is not in the host's
// mount namespace, and a containerd that does not answer recognises
// nothing.
func containerdTaskOf(pid int) *Container {
	if _, err := containerdSocket(); err != nil || inInitMountNS(pid) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	cd, _, err := openContainerd()
	if err != nil {
		return nil
	}
	defer cd.Close()
	all, err := cd.namespaces(ctx)
	if err != nil {
		return nil
	}
	for _, ns := range searchOrder(all) {
		tasks, err := cd.tasks(ctx, ns)
		if err != nil {
			return nil
		}
		for _, t := range tasks {
			if int(t.PID) == pid {
				return &Container{Engine: "containerd", ID: t.ContainerID, Namespace: ns, Via: "containerd-tasks"}
			}
		}
		for _, t := range tasks {
			pids, err := cd.pids(ctx, ns, t.ContainerID)
			if err == nil && slices.Contains(pids, pid) {
				return &Container{Engine: "containerd", ID: t.ContainerID, Namespace: ns, Via: "containerd-tasks"}
			}
		}
	}
	return nil
}

// inInitMountNS reports whether pid is in PID 1's mount namespace, the
// host's: a containerd container always has a mount namespace of its own
// (its root is the image's), so such a process is not one, and containerd
// is not asked a task list and a ListPids per task for it. The two links
// are read at the same moment, both namespaces alive, so their inodes
// name them. A link that cannot be read decides nothing (false).
func inInitMountNS(pid int) bool {
	self, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", pid))
	if err != nil {
		return false
	}
	host, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", hostPID))
	return err == nil && self == host
}

// hostPID is the process whose mount namespace is the host's: PID 1 (a
// variable for the tests).
var hostPID = 1

// ContainerdPods asks containerd for every container of namespace ns
// (k8s.io for kubelet's) as id -> the container (name, image, labels,
// pod), for serve's passes; nil, nil when no containerd socket exists.
func ContainerdPods(ctx context.Context, ns string) (map[string]*Container, error) {
	if _, err := containerdSocket(); err != nil {
		return nil, nil
	}
	cd, asked, err := openContainerd()
	if err != nil {
		return nil, err
	}
	defer cd.Close()
	ctx, cancel := context.WithTimeout(ctx, namesTimeout)
	defer cancel()
	list, err := cd.list(ctx, ns)
	if err != nil {
		return nil, fmt.Errorf("asking %s for its containers: %w", asked, err)
	}
	out := make(map[string]*Container, len(list))
	for _, cc := range list {
		out[cc.ID] = cc.container(ns)
	}
	// A pod's containers are hostNetwork when its sandbox is.
	for _, cc := range list {
		if sb, ok := out[cc.sandboxID()]; ok && sb.Pod.HostNetwork {
			out[cc.ID].Pod.HostNetwork = true
		}
	}
	return out, nil
}
