package inspect

import (
	"strings"
	"testing"

	"github.com/nsinspect/nsinspect/engine"
	"github.com/nsinspect/nsinspect/sharing"
)

// podContainer is a container of pod shop/web as containerd's CRI
// plugin declares it: it joins the sandbox's net, ipc and uts (and pid
// with shareProcessNamespace) by path; a hostNetwork pod's container
// joins them the same way, the sandbox's being the node's.
func podContainer(id, name string, sharePID, hostNetwork bool) *engine.Container {
	c := &engine.Container{Engine: "containerd", ID: id, Name: name,
		Pod: engine.Pod{Namespace: "shop", Name: "web", UID: "u1", Container: name, HostNetwork: hostNetwork},
		Declared: engine.Declared{NetworkMode: "ns:/proc/7/ns/net", IpcMode: "ns:/proc/7/ns/ipc", UTSMode: "ns:/proc/7/ns/uts",
			PidMode: "private", UsernsMode: "host", CgroupnsMode: "host"}}
	if sharePID {
		c.Declared.PidMode = "ns:/proc/7/ns/pid"
	}
	return c
}

// podSandbox is the pod's sandbox: the namespaces it holds are its own
// (net from CNI's netns by path), or the node's net and uts with
// hostNetwork.
func podSandbox(hostNetwork bool) *engine.Container {
	c := &engine.Container{Engine: "containerd", ID: "sb", Name: "web",
		Pod: engine.Pod{Namespace: "shop", Name: "web", UID: "u1", Sandbox: true, HostNetwork: hostNetwork},
		Declared: engine.Declared{NetworkMode: "ns:/run/netns/cni-1", IpcMode: "private", UTSMode: "private",
			PidMode: "private", UsernsMode: "host", CgroupnsMode: "host"}}
	if hostNetwork {
		c.Declared.NetworkMode, c.Declared.UTSMode = "host", "host"
	}
	return c
}

// podReport is what compare's kernel reading says, shared (true) or not,
// per namespace; the names absent are left indeterminate.
func podReport(a, b *engine.Container, shared map[string]bool) *sharing.Report {
	r := &sharing.Report{A: sharing.Task{Container: a}, B: sharing.Task{Container: b}}
	for _, name := range []string{"cgroup", "ipc", "mnt", "net", "pid", "user", "uts"} {
		res := sharing.Resource{Name: name, Kind: sharing.KindNamespace}
		if v, ok := shared[name]; ok {
			res.Shared = &v
		}
		r.Resources = append(r.Resources, res)
	}
	return r
}

func TestNotePodSharing(t *testing.T) {
	all := map[string]bool{"cgroup": true, "ipc": true, "mnt": false, "net": true, "pid": true, "user": true, "uts": true}
	noPID := map[string]bool{"cgroup": true, "ipc": true, "mnt": false, "net": true, "pid": false, "user": true, "uts": true}
	other := podContainer("c3", "db", false, false)
	other.Pod.Name, other.Pod.UID = "db", "u2"
	hostIPC := podContainer("c1", "app", true, false)
	hostIPC.Declared.IpcMode, hostIPC.Declared.PidMode = "host", "host"
	hostIPC2 := podContainer("c2", "sidecar", true, false)
	hostIPC2.Declared.IpcMode, hostIPC2.Declared.PidMode = "host", "host"
	for _, tt := range []struct {
		name    string
		r       *sharing.Report
		want    map[string]string // namespace -> words its note holds; absent: no note
		before  map[string]string // a note the row had already
		reasons int               // distinct notes: one text per reason, which the table folds into one footnote
	}{
		{"two containers", podReport(podContainer("c1", "app", false, false), podContainer("c2", "sidecar", false, false), noPID),
			map[string]string{"net": "sandbox's net, ipc, uts namespaces by design", "ipc": "by design", "uts": "by design"}, nil, 1},
		{"shareProcessNamespace", podReport(podContainer("c1", "app", true, false), podContainer("c2", "sidecar", true, false), all),
			map[string]string{"net": "net, ipc, uts, pid namespaces", "ipc": "by design", "uts": "by design", "pid": "shareProcessNamespace"}, nil, 1},
		{"a container and its sandbox", podReport(podContainer("c1", "app", false, false), podSandbox(false), noPID),
			map[string]string{"net": "by design", "ipc": "by design", "uts": "by design"}, nil, 1},
		{"shareProcessNamespace with the sandbox", podReport(podSandbox(false), podContainer("c1", "app", true, false), all),
			map[string]string{"net": "by design", "ipc": "by design", "uts": "by design", "pid": "shareProcessNamespace"}, nil, 1},
		{"hostNetwork", podReport(podContainer("c1", "app", true, true), podContainer("c2", "sidecar", true, true), all),
			map[string]string{"net": "is hostNetwork: its containers run in the node's net, uts namespaces", "uts": "hostNetwork",
				"ipc": "sandbox's ipc, pid namespaces", "pid": "shareProcessNamespace"}, nil, 2},
		{"hostNetwork with the sandbox", podReport(podSandbox(true), podContainer("c1", "app", false, true), noPID),
			map[string]string{"net": "hostNetwork", "uts": "hostNetwork", "ipc": "by design"}, nil, 2},
		{"hostIPC and hostPID", podReport(hostIPC, hostIPC2, all),
			map[string]string{"net": "by design", "uts": "by design", "ipc": "node's ipc, pid namespaces (hostIPC, hostPID)", "pid": "hostIPC, hostPID"}, nil, 2},
		// The kernel's verdict rules: a namespace not shared, or not
		// decided, gets no note whatever the specs say.
		{"not shared", podReport(podContainer("c1", "app", true, false), podContainer("c2", "sidecar", true, false), map[string]bool{"net": false}),
			map[string]string{}, nil, 0},
		{"two pods", podReport(podContainer("c1", "app", false, false), other, noPID), map[string]string{}, nil, 0},
		{"not a pod's", podReport(&engine.Container{Engine: "docker", ID: "d1"}, &engine.Container{Engine: "docker", ID: "d2"}, all),
			map[string]string{}, nil, 0},
		{"one container", podReport(podContainer("c1", "app", false, false), nil, all), map[string]string{}, nil, 0},
		{"a note already there", podReport(podContainer("c1", "app", false, false), podContainer("c2", "sidecar", false, false), noPID),
			map[string]string{"net": "a caveat; pod shop/web: its containers join", "ipc": "by design", "uts": "by design"},
			map[string]string{"net": "a caveat"}, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for i := range tt.r.Resources {
				tt.r.Resources[i].Note = tt.before[tt.r.Resources[i].Name]
			}
			notePodSharing(tt.r)
			var notes []string
			for _, res := range tt.r.Resources {
				word, ok := tt.want[res.Name]
				switch {
				case ok && (!strings.Contains(res.Note, "pod shop/web") || !strings.Contains(res.Note, word)):
					t.Errorf("%s: note %q, want one on pod shop/web with %q", res.Name, res.Note, word)
				case !ok && res.Note != tt.before[res.Name]:
					t.Errorf("%s: note %q, want %q", res.Name, res.Note, tt.before[res.Name])
				}
				if ok {
					notes = append(notes, res.Note)
				}
			}
			distinct := map[string]bool{}
			for _, n := range notes {
				distinct[n] = true
			}
			if len(distinct) != tt.reasons {
				t.Errorf("%d distinct notes, want %d: %q", len(distinct), tt.reasons, notes)
			}
		})
	}
}

// audit's notes on a pod's container: what it joins by design, the
// hostNetwork said once; nothing for a container outside a pod.
func TestPodNotes(t *testing.T) {
	for _, tt := range []struct {
		name string
		c    *engine.Container
		want []string
	}{
		{"own network", podContainer("c1", "app", false, false),
			[]string{"pod shop/web: this container joins its pod sandbox's net, ipc, uts namespaces by design"}},
		{"shareProcessNamespace", podContainer("c1", "app", true, false),
			[]string{"pod shop/web: this container joins its pod sandbox's net, ipc, uts, pid namespaces by design"}},
		{"hostNetwork", podContainer("c1", "app", true, true),
			[]string{"pod shop/web: this container joins its pod sandbox's ipc, pid namespaces by design", "pod shop/web is hostNetwork"}},
		{"the sandbox", podSandbox(false),
			[]string{"pod shop/web: this is its sandbox, which holds the pod's net, ipc, uts namespaces for its containers to join by design"}},
		{"the sandbox of a hostNetwork pod", podSandbox(true),
			[]string{"pod shop/web: this is its sandbox, which holds the pod's ipc namespaces", "pod shop/web is hostNetwork"}},
		{"not a pod's", &engine.Container{Engine: "docker", ID: "d1"}, nil},
		{"no container", nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := PodNotes(tt.c)
			if len(got) != len(tt.want) {
				t.Fatalf("notes %q, want %d", got, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("note %d: %q, want it to start %q", i, got[i], w)
				}
			}
		})
	}
}
