package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// ctrContainerJSON is a task's "container" in show, compare and audit.
type ctrContainerJSON struct {
	Engine    string            `json:"engine"`
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Image     string            `json:"image"`
	Labels    map[string]string `json:"labels"`
	Namespace string            `json:"namespace"`
	Via       string            `json:"via"`
	Cgroup    string            `json:"cgroup"`
	Note      string            `json:"note"`
	Pod       struct {
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
		UID         string `json:"uid"`
		Container   string `json:"container"`
		Sandbox     bool   `json:"sandbox"`
		HostNetwork bool   `json:"host_network"`
	} `json:"pod"`
}

// TestContainerd runs a containerd of its own, makes a pod sandbox and
// two containers through CRI as kubelet makes them, and checks what
// show, compare and audit say of them: by containerd:NAMESPACE/ID, by
// CRI container name, and from the cgroup path of a bare PID.
func TestContainerd(t *testing.T) {
	cd := startContainerd(t)
	sockFlag := "--containerd-socket=" + cd.sock
	p := cd.runPod(t, "nsi-team", "web", podOptions{hostNetwork: true, sharePID: true})
	id1, pid1 := cd.startContainer(t, p, "app")
	id2, pid2 := cd.startContainer(t, p, "sidecar")

	checkContainer := func(t *testing.T, c *ctrContainerJSON, id, name string) {
		t.Helper()
		if c == nil {
			t.Fatalf("no container, want containerd %s", id)
		}
		if c.Engine != "containerd" || c.ID != id || c.Namespace != "k8s.io" || c.Name != name {
			t.Errorf("container = engine %q id %q namespace %q name %q; want containerd %s k8s.io %s", c.Engine, c.ID, c.Namespace, c.Name, id, name)
		}
		if c.Pod.Namespace != p.namespace || c.Pod.Name != p.name || c.Pod.UID != p.uid || c.Pod.Container != name || !c.Pod.HostNetwork {
			t.Errorf("pod = %+v; want %s/%s uid %s container %s, hostNetwork", c.Pod, p.namespace, p.name, p.uid, name)
		}
		if c.Note != "" {
			t.Errorf("note %q: containerd was asked and answered", c.Note)
		}
	}

	t.Run("show by id", func(t *testing.T) {
		var s struct {
			PID       int               `json:"pid"`
			Container *ctrContainerJSON `json:"container"`
		}
		decodeRun(t, &s, "show", "containerd:k8s.io/"+id1, "--json", sockFlag)
		if s.PID != pid1 {
			t.Errorf("pid %d, CRI says %d", s.PID, pid1)
		}
		checkContainer(t, s.Container, id1, "app")
		if s.Container != nil && (!strings.Contains(s.Container.Image, "nsinspect-it.local/nsinspect") ||
			s.Container.Labels["io.kubernetes.container.name"] != "app") {
			t.Errorf("image %q labels %v: want the imported image and kubelet's labels", s.Container.Image, s.Container.Labels)
		}
	})

	t.Run("show by CRI name", func(t *testing.T) {
		var s struct {
			PID int `json:"pid"`
		}
		decodeRun(t, &s, "show", "containerd:sidecar", "--json", sockFlag)
		if s.PID != pid2 {
			t.Errorf("containerd:sidecar is pid %d, CRI says %d", s.PID, pid2)
		}
	})

	t.Run("recognised from cgroup", func(t *testing.T) {
		var s struct {
			Container *ctrContainerJSON `json:"container"`
		}
		decodeRun(t, &s, "show", strconv.Itoa(pid2), "--json", sockFlag)
		checkContainer(t, s.Container, id2, "sidecar")
		if s.Container != nil && (s.Container.Via != "cgroup" || !strings.HasSuffix(s.Container.Cgroup, "/kubepods/besteffort/pod"+p.uid+"/"+id2)) {
			t.Errorf("via %q cgroup %q: want kubelet's cgroupfs layout", s.Container.Via, s.Container.Cgroup)
		}
		// With no containerd to ask, the cgroup's id is all there is,
		// and the note says why.
		s.Container = nil
		decodeRun(t, &s, "show", strconv.Itoa(pid2), "--json", "--containerd-socket="+filepath.Join(cd.dir, "absent.sock"))
		if s.Container == nil || s.Container.ID != id2 || s.Container.Engine != "kubernetes" || s.Container.Note == "" || s.Container.Pod.Name != "" {
			t.Errorf("without containerd: %+v; want kubernetes %s with a note and no pod", s.Container, id2)
		}
	})

	t.Run("recognised from the task list", func(t *testing.T) {
		// ctr run's container is in cgroup /TOP/ctr-hold, which names no
		// engine, and its runc state is under the test's own root: only
		// containerd's task list (Tasks.List) names it.
		pid := cd.ctrRunHold(t, "ctr-hold")
		var s struct {
			Container *ctrContainerJSON `json:"container"`
		}
		decodeRun(t, &s, "show", strconv.Itoa(pid), "--json", sockFlag)
		if c := s.Container; c == nil || c.Engine != "containerd" || c.ID != "ctr-hold" || c.Namespace != "default" ||
			c.Via != "containerd-tasks" || c.Name != "ctr-hold" || c.Pod.Name != "" || c.Note != "" {
			t.Errorf("container %+v; want containerd default/ctr-hold from the task list, no pod", c)
		}
		var l struct {
			PID       int               `json:"pid"`
			Container *ctrContainerJSON `json:"container"`
		}
		decodeRun(t, &l, "show", "containerd:ctr-hold", "--json", sockFlag)
		if l.PID != pid {
			t.Errorf("containerd:ctr-hold is pid %d, ctr says %d", l.PID, pid)
		}
	})

	t.Run("compare one pod", func(t *testing.T) {
		var r podCompareJSON
		decodeRun(t, &r, "compare", "containerd:k8s.io/"+id1, "containerd:k8s.io/"+id2, "--json", sockFlag)
		checkContainer(t, r.A.Container, id1, "app")
		checkContainer(t, r.B.Container, id2, "sidecar")
		// The pod's sandbox namespaces (ipc, pid with
		// shareProcessNamespace, net and uts: the node's with
		// hostNetwork) are shared, each with the note that the pod
		// shares it on purpose; each container's mount namespace is
		// its own.
		checkPodCompare(t, r, p.namespace+"/"+p.name, map[string]bool{"ipc": true, "pid": true, "net": true, "uts": true, "mnt": false},
			map[string]string{"ipc": "by design", "pid": "shareProcessNamespace", "net": "hostNetwork", "uts": "hostNetwork"})
	})

	t.Run("audit with a pod-namespace rule", func(t *testing.T) {
		pol := filepath.Join(t.TempDir(), "policy.yaml")
		must(t, os.WriteFile(pol, []byte(`version: 1
rules:
  - name: team-pods-not-on-host-net
    match: {engine: containerd, pod_namespace: "nsi-*"}
    expect:
      namespaces: {separate: [net]}
  - name: other-team
    match: {pod_namespace: "other"}
    expect:
      namespaces: {separate: [net]}
`), 0o644))
		r := nsinspect(t, "audit", "containerd:k8s.io/"+id1, "--json", "--policy", pol, sockFlag)
		if r.code != 1 {
			t.Fatalf("exit %d, want 1 (a hostNetwork pod violates separate net); stderr: %s", r.code, r.stderr)
		}
		var a struct {
			auditJSON
			Policy struct {
				Results []struct {
					Rule       string `json:"rule"`
					Violations int    `json:"violations"`
				} `json:"results"`
				Unmatched []string `json:"unmatched_rules"`
			} `json:"policy"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &a); err != nil {
			t.Fatalf("%v: %s", err, r.stdout)
		}
		if len(a.Targets) != 1 {
			t.Fatalf("%d targets", len(a.Targets))
		}
		tg := a.Targets[0]
		if tg.Target.Container == nil || tg.Target.Container.Pod.Namespace != p.namespace {
			t.Errorf("target container %+v: want pod namespace %s", tg.Target.Container, p.namespace)
		}
		notes := strings.Join(tg.Notes, "\n")
		if !strings.Contains(notes, "hostNetwork") || !strings.Contains(notes, "sandbox's ipc, pid namespaces") {
			t.Errorf("notes %q: want the pod's sandbox sharing and hostNetwork said", notes)
		}
		for _, typ := range []string{"net", "uts"} {
			if ns := tg.Facts.Namespaces[typ]; !ns.Shared || !ns.Proven || nsLink(t, pid1, typ) != hostNS(t, typ) {
				t.Errorf("%s: shared %v proven %v; want the host's, as the kernel says", typ, ns.Shared, ns.Proven)
			}
		}
		if len(a.Policy.Results) != 1 || a.Policy.Results[0].Rule != "team-pods-not-on-host-net" || a.Policy.Results[0].Violations != 1 {
			t.Errorf("results %+v: want team-pods-not-on-host-net with 1 violation", a.Policy.Results)
		}
		if len(a.Policy.Unmatched) != 1 || a.Policy.Unmatched[0] != "other-team" {
			t.Errorf("unmatched %v: want other-team", a.Policy.Unmatched)
		}
		// Fail closed: with containerd out of reach, a rule on the pod
		// namespace cannot be decided for a container its cgroup names.
		r = nsinspect(t, "audit", strconv.Itoa(pid1), "--policy", pol, "--containerd-socket="+filepath.Join(cd.dir, "absent.sock"))
		if r.code != 5 {
			t.Errorf("audit without containerd: exit %d, want 5 (undecided); stdout %s stderr %s", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("serve's containers", func(t *testing.T) {
		// containerd names kubelet's containers of the cgroupfs layout
		// for serve too: /api/containers carries the containerd
		// namespace and the pod, and marks the sandbox.
		s := startServe(t, sockFlag, "--pods-log-dir", "", "--containers-log-dir", "")
		status, body := s.get(t, "/api/containers")
		if status != 200 {
			t.Fatalf("/api/containers: %d %s", status, body)
		}
		var r struct {
			Containers []struct {
				Engine              string `json:"engine"`
				ID                  string `json:"id"`
				Name                string `json:"name"`
				ContainerdNamespace string `json:"containerd_namespace"`
				PodUID              string `json:"pod_uid"`
				PodNamespace        string `json:"pod_namespace"`
				Pod                 string `json:"pod"`
				PodContainer        string `json:"pod_container"`
				PodSandbox          bool   `json:"pod_sandbox"`
				PID                 int    `json:"pid"`
			} `json:"containers"`
		}
		must(t, json.Unmarshal(body, &r))
		want := map[string]struct {
			name, container string
			sandbox         bool
			pid             int
		}{id1: {"app", "app", false, pid1}, id2: {"sidecar", "sidecar", false, pid2}, p.id: {p.name, "", true, p.pid}}
		for _, c := range r.Containers {
			w, ok := want[c.ID]
			if !ok {
				continue
			}
			delete(want, c.ID)
			if c.Engine != "containerd" || c.ContainerdNamespace != "k8s.io" || c.Name != w.name || c.PID != w.pid ||
				c.PodNamespace != p.namespace || c.Pod != p.name || c.PodUID != p.uid || c.PodContainer != w.container || c.PodSandbox != w.sandbox {
				t.Errorf("%+v; want containerd k8s.io %s (pid %d) of pod %s/%s uid %s, container %q, sandbox %v",
					c, w.name, w.pid, p.namespace, p.name, p.uid, w.container, w.sandbox)
			}
		}
		if len(want) > 0 {
			t.Errorf("/api/containers lacks %v: %s", want, body)
		}
	})

	t.Run("pod of its own network", func(t *testing.T) { testOwnNetworkPod(t, cd) })
	t.Run("shareProcessNamespace", func(t *testing.T) { testSharedPIDPod(t, cd) })

	t.Run("privileged pod", func(t *testing.T) { testPrivilegedPod(t, cd, id1, pid1) })

	t.Run("audit by PID", func(t *testing.T) {
		// A pod container named by its host PID: its cgroup names it,
		// containerd gives its pod.
		c, _, pid := auditPodTarget(t, strconv.Itoa(pid2), sockFlag)
		if pid != pid2 {
			t.Errorf("audit %d: target pid %d", pid2, pid)
		}
		checkContainer(t, c, id2, "sidecar")
		if c != nil && c.Via != "cgroup" {
			t.Errorf("via %q, want cgroup", c.Via)
		}
	})

	t.Run("bad targets", func(t *testing.T) {
		for _, cmd := range []string{"show", "audit"} {
			for arg, want := range map[string]string{
				"containerd:k8s.io/nope": `no containerd container named "k8s.io/nope"`,
				"containerd:moby/x":      "name it docker:NAME",
			} {
				r := nsinspect(t, cmd, arg, sockFlag)
				checkOneLineError(t, r, 2, cmd+" "+arg)
				if !strings.Contains(r.stderr, want) {
					t.Errorf("%s %s: stderr %q, want %q", cmd, arg, r.stderr, want)
				}
			}
			// No socket there: containerd cannot be asked, so whether
			// the container exists is undecided.
			r := nsinspect(t, cmd, "containerd:k8s.io/"+id1, "--containerd-socket", "/nonexistent")
			checkOneLineError(t, r, 5, cmd+" with --containerd-socket /nonexistent")
			t.Logf("%s: %s", cmd, strings.TrimSpace(r.stderr))
			if !strings.Contains(r.stderr, "/nonexistent") {
				t.Errorf("%s: stderr %q does not name the socket", cmd, r.stderr)
			}
		}
	})

	t.Run("containerd stopped", func(t *testing.T) { testStoppedContainerd(t, cd, id1) })
}

// decodeRun runs nsinspect, wants exit 0 and decodes its JSON into v.
func decodeRun(t *testing.T, v any, args ...string) {
	t.Helper()
	r := nsinspect(t, args...)
	if r.code != 0 {
		t.Fatalf("nsinspect %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
	}
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		t.Fatalf("nsinspect %s: %v: %s", strings.Join(args, " "), err, r.stdout)
	}
}
