package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// fakeContainer is one container of the fake containerd.
type fakeContainer struct {
	ns, id, image string
	labels        map[string]string
	spec          string // the OCI spec, JSON
	pid           uint32 // its task's; 0: no task
	pids          []uint32
}

// fakeContainerd answers containerd's gRPC methods over a unix socket
// with the messages encoded as containerd encodes them; the real
// containerd is in integration/containerd_test.go.
func fakeContainerd(t *testing.T, deny bool, cs ...fakeContainer) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "containerd.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	srv := &http.Server{Protocols: &p, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, err := unframe(r.URL.Path, body)
		if r.Header.Get("Content-Type") != "application/grpc" || err != nil {
			http.Error(w, "not grpc", http.StatusBadRequest)
			return
		}
		ns := r.Header.Get("containerd-namespace")
		var id string
		fields(req, func(num protowire.Number, typ protowire.Type, b []byte) int {
			v, n := bytesField(typ, b)
			if num == 1 {
				id = string(v)
			}
			return n
		})
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Trailer", "Grpc-Status, Grpc-Message")
		status := func(code int, msg string) {
			w.Header().Set("Grpc-Status", strconv.Itoa(code))
			w.Header().Set("Grpc-Message", msg)
		}
		if deny {
			status(grpcPermissionDenied, "denied")
			return
		}
		var out []byte
		msg := func(num protowire.Number, m []byte) {
			out = protowire.AppendBytes(protowire.AppendTag(out, num, protowire.BytesType), m)
		}
		find := func() *fakeContainer {
			for i := range cs {
				if cs[i].ns == ns && cs[i].id == id {
					return &cs[i]
				}
			}
			return nil
		}
		switch r.URL.Path {
		case "/containerd.services.namespaces.v1.Namespaces/List":
			seen := map[string]bool{}
			for _, c := range cs {
				if !seen[c.ns] {
					seen[c.ns] = true
					msg(1, protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), c.ns))
				}
			}
		case "/containerd.services.containers.v1.Containers/Get":
			c := find()
			if c == nil {
				status(grpcNotFound, "container "+id+": not found")
				return
			}
			msg(1, encodeFake(*c))
		case "/containerd.services.containers.v1.Containers/List":
			for _, c := range cs {
				if c.ns == ns {
					msg(1, encodeFake(c))
				}
			}
		case "/containerd.services.tasks.v1.Tasks/Get":
			c := find()
			if c == nil || c.pid == 0 {
				status(grpcNotFound, "no running task found")
				return
			}
			msg(1, encodeProcess(*c))
		case "/containerd.services.tasks.v1.Tasks/List":
			for _, c := range cs {
				if c.ns == ns && c.pid != 0 {
					msg(1, encodeProcess(c))
				}
			}
		case "/containerd.services.tasks.v1.Tasks/ListPids":
			c := find()
			if c == nil {
				status(grpcNotFound, "not found")
				return
			}
			for _, pid := range append([]uint32{c.pid}, c.pids...) {
				msg(1, protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), uint64(pid)))
			}
		default:
			status(grpcUnimplemented, "unknown method")
			return
		}
		frame := make([]byte, 5, 5+len(out))
		binary.BigEndian.PutUint32(frame[1:], uint32(len(out)))
		w.Write(append(frame, out...))
		status(0, "")
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	old := ContainerdSocket
	ContainerdSocket = sock
	t.Cleanup(func() { ContainerdSocket = old })
	return sock
}

func encodeFake(c fakeContainer) []byte {
	str := func(b []byte, num protowire.Number, s string) []byte {
		return protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), s)
	}
	b := str(nil, 1, c.id)
	for k, v := range c.labels {
		b = protowire.AppendBytes(protowire.AppendTag(b, 2, protowire.BytesType), str(str(nil, 1, k), 2, v))
	}
	b = str(b, 3, c.image)
	if c.spec != "" {
		anyMsg := str(str(nil, 1, "types.containerd.io/opencontainers/runtime-spec/1/Spec"), 2, c.spec)
		b = protowire.AppendBytes(protowire.AppendTag(b, 5, protowire.BytesType), anyMsg)
	}
	return str(b, 6, "native") // a field nsinspect skips
}

// encodeProcess encodes a task as containerd 1.6's Tasks.List and Get
// do: its id in field 2, container_id (1) left empty.
func encodeProcess(c fakeContainer) []byte {
	b := protowire.AppendString(protowire.AppendTag(nil, 2, protowire.BytesType), c.id)
	b = protowire.AppendVarint(protowire.AppendTag(b, 3, protowire.VarintType), uint64(c.pid))
	return protowire.AppendVarint(protowire.AppendTag(b, 4, protowire.VarintType), 2) // RUNNING
}

// A pod as containerd's CRI plugin stores it: a hostNetwork sandbox (no
// network namespace in its spec) and a container joined to the
// sandbox's namespaces by path, with kubelet's labels.
func podFixture() []fakeContainer {
	labels := func(kind, name string) map[string]string {
		l := map[string]string{LabelPodNamespace: "shop", LabelPodName: "web", LabelPodUID: "0f6c1f6e-8d3a-4b7e-9f58-2a1d3c4b5e6f", labelCRIKind: kind}
		if name != "" {
			l[LabelContainerName] = name
		}
		return l
	}
	sandbox := fakeContainer{ns: "k8s.io", id: "sb1", image: "pause", labels: labels("sandbox", ""), pid: 100,
		spec: `{"annotations":{"io.kubernetes.cri.sandbox-id":"sb1"},"linux":{"namespaces":[{"type":"pid"},{"type":"ipc"},{"type":"mount"}]}}`}
	app := fakeContainer{ns: "k8s.io", id: "app1", image: "shop/app:1", labels: labels("container", "app"), pid: 200, pids: []uint32{201},
		spec: `{"annotations":{"io.kubernetes.cri.sandbox-id":"sb1"},"linux":{"namespaces":[{"type":"pid","path":"/proc/100/ns/pid"},{"type":"ipc","path":"/proc/100/ns/ipc"},{"type":"uts","path":"/proc/100/ns/uts"},{"type":"network","path":"/proc/100/ns/net"},{"type":"mount"}]}}`}
	return []fakeContainer{sandbox, app}
}

func TestContainerdLookup(t *testing.T) {
	cs := append(podFixture(),
		fakeContainer{ns: "moby", id: "app1", image: "docker's", pid: 300},
		fakeContainer{ns: "default", id: "ctr1", image: "busybox", pid: 400})
	fakeContainerd(t, false, cs...)
	ctx := context.Background()
	for _, ref := range []string{"k8s.io/app1", "app1", "app"} {
		c, err := Lookup(ctx, "containerd", ref)
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		want := Pod{Namespace: "shop", Name: "web", UID: "0f6c1f6e-8d3a-4b7e-9f58-2a1d3c4b5e6f", Container: "app", HostNetwork: true}
		if c.ID != "app1" || c.Namespace != "k8s.io" || c.Name != "app" || c.Image != "shop/app:1" || c.PID != 200 || c.Status != "running" || c.Pod != want {
			t.Errorf("%s: %+v", ref, c)
		}
		if c.Declared.NetworkMode != "ns:/proc/100/ns/net" || c.Declared.UsernsMode != "host" {
			t.Errorf("%s: declared %+v", ref, c.Declared)
		}
	}
	if c, err := Lookup(ctx, "containerd", "ctr1"); err != nil || c.Namespace != "default" || c.Name != "ctr1" || c.Pod != (Pod{}) {
		t.Errorf("ctr1 (not CRI's, in default): %+v, %v", c, err)
	}
	if c, err := Lookup(ctx, "containerd", "k8s.io/sb1"); err != nil || !c.Pod.Sandbox || !c.Pod.HostNetwork || c.Name != "web" {
		t.Errorf("the sandbox: %+v, %v", c, err)
	}
	if _, err := Lookup(ctx, "containerd", "moby/app1"); !errors.Is(err, ErrEngine) {
		t.Errorf("moby/app1: %v, want ErrEngine (Docker's)", err)
	}
	if _, err := Lookup(ctx, "containerd", "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("nope: %v, want ErrNotFound", err)
	}
}

func TestContainerdAmbiguousName(t *testing.T) {
	cs := podFixture()
	other := cs[1]
	other.id, other.labels = "app2", map[string]string{LabelPodNamespace: "shop", LabelPodName: "web2", LabelContainerName: "app"}
	fakeContainerd(t, false, append(cs, other)...)
	if _, err := Lookup(context.Background(), "containerd", "app"); !errors.Is(err, ErrAmbiguous) {
		t.Errorf("err %v, want ErrAmbiguous", err)
	}
}

func TestContainerdRefused(t *testing.T) {
	fakeContainerd(t, true)
	_, err := Lookup(context.Background(), "containerd", "app1")
	if !errors.Is(err, fs.ErrPermission) {
		t.Errorf("err %v, want a permission error", err)
	}
	for _, eng := range []string{"kubernetes", "containerd"} {
		c := &Container{Engine: eng, ID: "app1", Via: "cgroup"}
		if err := Identify(context.Background(), c); !errors.Is(err, fs.ErrPermission) || c.Engine != eng || c.Note == "" {
			t.Errorf("Identify %s with a refusing containerd: %v, %+v", eng, err, c)
		}
	}
}

func TestContainerdAbsent(t *testing.T) {
	old := ContainerdSocket
	ContainerdSocket = filepath.Join(t.TempDir(), "absent.sock")
	t.Cleanup(func() { ContainerdSocket = old })
	c := &Container{Engine: "containerd", ID: "x", Via: "cgroup"}
	if err := Identify(context.Background(), c); !errors.Is(err, ErrNoEngine) || c.Note == "" {
		t.Errorf("Identify: %v, note %q", err, c.Note)
	}
	if m, err := ContainerdPods(context.Background(), CRINamespace); m != nil || err != nil {
		t.Errorf("ContainerdPods without containerd: %v, %v", m, err)
	}
}

// kubelet's cgroupfs layout names no runtime: containerd is asked, and
// the container becomes containerd's with its pod.
func TestIdentifyKubernetesAsContainerd(t *testing.T) {
	fakeContainerd(t, false, podFixture()...)
	c := &Container{Engine: "kubernetes", ID: "app1", Via: "cgroup", Cgroup: "/kubepods/besteffort/pod0f6c/app1"}
	if err := Identify(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if c.Engine != "containerd" || c.Namespace != "k8s.io" || c.Pod.Name != "web" || !c.Pod.HostNetwork || c.Cgroup == "" {
		t.Errorf("%+v", c)
	}
}

func TestContainerdTaskOf(t *testing.T) {
	fakeContainerd(t, false, podFixture()...)
	// The fixture's pids are made up: the host reference is one whose
	// mount namespace none of them is in.
	setHostPID(t, 0)
	for pid, want := range map[int]string{200: "app1", 201: "app1", 100: "sb1", 999: ""} {
		c := containerdTaskOf(pid)
		if (c == nil) != (want == "") || (c != nil && (c.ID != want || c.Via != "containerd-tasks" || c.Namespace != "k8s.io")) {
			t.Errorf("pid %d: %+v, want %q", pid, c, want)
		}
	}
}

func TestContainerdPods(t *testing.T) {
	fakeContainerd(t, false, podFixture()...)
	m, err := ContainerdPods(context.Background(), CRINamespace)
	if err != nil {
		t.Fatal(err)
	}
	if c := m["app1"]; c == nil || c.Pod.Container != "app" || !c.Pod.HostNetwork {
		t.Errorf("app1: %+v", c)
	}
}

// A process in the host's mount namespace is no containerd container:
// containerd is not asked.
func TestContainerdTaskOfHostProcess(t *testing.T) {
	fakeContainerd(t, false, fakeContainer{ns: "default", id: "self", pid: uint32(os.Getpid())})
	// go test, which runs this test binary, stands for the host.
	setHostPID(t, os.Getppid())
	if c := containerdTaskOf(os.Getpid()); c != nil {
		t.Errorf("a process in the host's mount namespace: %+v", c)
	}
	setHostPID(t, 0)
	if c := containerdTaskOf(os.Getpid()); c == nil || c.ID != "self" {
		t.Errorf("the same process, with no host reference to rule it out: %+v", c)
	}
}

func setHostPID(t *testing.T, pid int) {
	old := hostPID
	hostPID = pid
	t.Cleanup(func() { hostPID = old })
}

func TestUnframe(t *testing.T) {
	for _, b := range [][]byte{nil, {0, 0, 0}, {1, 0, 0, 0, 0}, {0, 0, 0, 0, 2, 'x'}} {
		if _, err := unframe("/m", b); err == nil {
			t.Errorf("unframe(%v): no error", b)
		}
	}
	if m, err := unframe("/m", []byte{0, 0, 0, 0, 1, 'x'}); err != nil || string(m) != "x" {
		t.Errorf("unframe: %q, %v", m, err)
	}
}

func TestMain(m *testing.M) {
	// No test here may find a containerd of the machine's own.
	ContainerdSockets = []string{"/nonexistent/containerd.sock"}
	os.Exit(m.Run())
}
