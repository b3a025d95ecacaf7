package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// nsLink is the kernel's word on a task's namespace: its
// /proc/PID/ns/TYPE link, read while the task (and so the namespace)
// lives, when its inode names one namespace.
func nsLink(t *testing.T, pid int, typ string) string {
	t.Helper()
	l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, typ))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// hostNS is the host's namespace of type typ: the test's own (it runs
// in the host's; PID 1's links are not readable on every machine, even
// by root).
func hostNS(t *testing.T, typ string) string {
	t.Helper()
	return nsLink(t, os.Getpid(), typ)
}

// podCompareJSON is the part of compare --json the pod tests read.
type podCompareJSON struct {
	A struct {
		Container *ctrContainerJSON `json:"container"`
	} `json:"a"`
	B struct {
		Container *ctrContainerJSON `json:"container"`
	} `json:"b"`
	Resources []struct {
		Name   string `json:"name"`
		Shared *bool  `json:"shared"`
		Note   string `json:"note"`
	} `json:"resources"`
}

// checkPodCompare checks compare's verdict on each namespace of want
// (shared or not), and that a shared one carries the note that the pod
// shares it on purpose, naming the pod and with the words of why
// (byDesign: the namespace's name -> a word its note must hold), and that
// one not shared carries none.
func checkPodCompare(t *testing.T, r podCompareJSON, pod string, want map[string]bool, byDesign map[string]string) {
	t.Helper()
	for _, res := range r.Resources {
		w, ok := want[res.Name]
		if !ok {
			continue
		}
		delete(want, res.Name)
		if res.Shared == nil || *res.Shared != w {
			t.Errorf("%s: shared %v, want %v", res.Name, res.Shared, w)
		}
		word, designed := byDesign[res.Name]
		switch {
		case designed && (!strings.Contains(res.Note, "pod "+pod) || !strings.Contains(res.Note, word)):
			t.Errorf("%s: note %q, want one saying pod %s shares it by design (%q)", res.Name, res.Note, pod, word)
		case !designed && strings.Contains(res.Note, "pod "):
			t.Errorf("%s: note %q: the pod does not share it", res.Name, res.Note)
		}
	}
	if len(want) > 0 {
		t.Errorf("compare reported nothing for %v", want)
	}
}

// auditJSON is the part of audit --json the pod tests read.
type auditJSON struct {
	Targets []struct {
		Target struct {
			Container *ctrContainerJSON `json:"container"`
		} `json:"target"`
		Facts struct {
			Namespaces map[string]struct {
				Shared bool `json:"shared"`
				Proven bool `json:"proven"`
			} `json:"namespaces"`
		} `json:"facts"`
		Notes []string `json:"notes"`
	} `json:"targets"`
	Policy struct {
		Results []struct {
			Rule       string `json:"rule"`
			Violations int    `json:"violations"`
		} `json:"results"`
		Violations []json.RawMessage `json:"violations"`
	} `json:"policy"`
}

// podSeparatePolicy expects a pod of nsi-team to be apart from the host
// in net, ipc, uts and pid.
const podSeparatePolicy = `version: 1
rules:
  - name: team-pods-apart-from-host
    match: {engine: containerd, pod_namespace: "nsi-team"}
    expect:
      namespaces: {separate: [net, ipc, uts, pid]}
`

// auditPod audits one pod container against the host with
// podSeparatePolicy, wants exit code, and returns the one target.
func auditPod(t *testing.T, id, sockFlag string, code int) auditJSON {
	t.Helper()
	pol := filepath.Join(t.TempDir(), "policy.yaml")
	must(t, os.WriteFile(pol, []byte(podSeparatePolicy), 0o644))
	r := nsinspect(t, "audit", "containerd:k8s.io/"+id, "--json", "--policy", pol, sockFlag)
	if r.code != code {
		t.Fatalf("audit: exit %d, want %d; stdout %s stderr %s", r.code, code, r.stdout, r.stderr)
	}
	var a auditJSON
	if err := json.Unmarshal([]byte(r.stdout), &a); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	if len(a.Targets) != 1 {
		t.Fatalf("%d targets", len(a.Targets))
	}
	return a
}

// testOwnNetworkPod: a pod that is not hostNetwork gets a network
// namespace of its own from CNI, and an ipc and uts namespace of its
// own; its containers join all three of its sandbox's, and each has a
// pid namespace of its own (no shareProcessNamespace).
func testOwnNetworkPod(t *testing.T, cd *ownContainerd) {
	sockFlag := "--containerd-socket=" + cd.sock
	p := cd.runPod(t, "nsi-team", "shop", podOptions{})
	apiID, apiPID := cd.startContainer(t, p, "api")
	proxyID, proxyPID := cd.startContainer(t, p, "proxy")

	// The kernel's word first: the pod's namespaces are the sandbox's,
	// and not the host's.
	for _, typ := range []string{"net", "ipc", "uts"} {
		sb := nsLink(t, p.pid, typ)
		if sb == hostNS(t, typ) {
			t.Fatalf("the sandbox is in the host's %s namespace %s: the pod has no network of its own", typ, sb)
		}
		for _, pid := range []int{apiPID, proxyPID} {
			if got := nsLink(t, pid, typ); got != sb {
				t.Errorf("pid %d: %s is %s, the sandbox's is %s", pid, typ, got, sb)
			}
		}
	}
	// CNI put the pod on the test's bridge: eth0 in its namespace.
	if dev, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/dev", p.pid)); err != nil || !strings.Contains(string(dev), "eth0:") {
		t.Errorf("the sandbox's network namespace has no eth0 (%v):\n%s", err, dev)
	}
	if !linkExists(t, cd.cni.bridge) {
		t.Errorf("no bridge %s: CNI did not attach the pod", cd.cni.bridge)
	}
	pids := map[string]bool{}
	for _, pid := range []int{os.Getpid(), p.pid, apiPID, proxyPID} {
		pids[nsLink(t, pid, "pid")] = true
	}
	if len(pids) != 4 {
		t.Errorf("the host, the sandbox and the two containers are in %d pid namespaces, want 4", len(pids))
	}

	t.Run("show", func(t *testing.T) {
		var s struct {
			PID       int               `json:"pid"`
			Container *ctrContainerJSON `json:"container"`
		}
		decodeRun(t, &s, "show", "containerd:k8s.io/"+apiID, "--json", sockFlag)
		if c := s.Container; s.PID != apiPID || c == nil || c.Pod.Name != "shop" || c.Pod.Container != "api" || c.Pod.HostNetwork || c.Pod.Sandbox {
			t.Errorf("pid %d container %+v; want pid %d, container api of pod shop, not hostNetwork", s.PID, c, apiPID)
		}
		decodeRun(t, &s, "show", "containerd:k8s.io/"+p.id, "--json", sockFlag)
		if c := s.Container; s.PID != p.pid || c == nil || c.Name != "shop" || !c.Pod.Sandbox {
			t.Errorf("pid %d container %+v; want the sandbox of pod shop, pid %d", s.PID, c, p.pid)
		}
	})

	sandboxNote := map[string]string{"net": "by design", "ipc": "by design", "uts": "by design"}
	t.Run("compare two containers", func(t *testing.T) {
		var r podCompareJSON
		decodeRun(t, &r, "compare", "containerd:k8s.io/"+apiID, "containerd:k8s.io/"+proxyID, "--json", sockFlag)
		if r.A.Container == nil || r.B.Container == nil || r.A.Container.ID != apiID || r.B.Container.ID != proxyID {
			t.Errorf("containers %+v, %+v", r.A.Container, r.B.Container)
		}
		checkPodCompare(t, r, "nsi-team/shop", map[string]bool{"net": true, "ipc": true, "uts": true, "pid": false, "mnt": false}, sandboxNote)
		// The table gives the note once, as a footnote of the three rows.
		out := nsinspectOK(t, "compare", "containerd:k8s.io/"+apiID, "containerd:k8s.io/"+proxyID, sockFlag)
		if n := strings.Count(out, "pod nsi-team/shop"); n != 3 { // A's and B's labels, and the footnote
			t.Errorf("the table names pod nsi-team/shop %d times, want 3 (A, B and one footnote):\n%s", n, out)
		}
	})

	t.Run("compare with the sandbox", func(t *testing.T) {
		var r podCompareJSON
		decodeRun(t, &r, "compare", "containerd:k8s.io/"+apiID, "containerd:k8s.io/"+p.id, "--json", sockFlag)
		checkPodCompare(t, r, "nsi-team/shop", map[string]bool{"net": true, "ipc": true, "uts": true, "pid": false}, sandboxNote)
	})

	t.Run("audit", func(t *testing.T) {
		a := auditPod(t, apiID, sockFlag, 0)
		tg := a.Targets[0]
		for _, typ := range []string{"net", "ipc", "uts", "pid"} {
			if ns := tg.Facts.Namespaces[typ]; ns.Shared || !ns.Proven {
				t.Errorf("%s: shared %v proven %v, want proven separate from the host", typ, ns.Shared, ns.Proven)
			}
		}
		notes := strings.Join(tg.Notes, "\n")
		if !strings.Contains(notes, "pod nsi-team/shop: this container joins its pod sandbox's net, ipc, uts namespaces by design") ||
			strings.Contains(notes, "hostNetwork") {
			t.Errorf("notes %q: want the pod's sharing of net, ipc, uts said, and no hostNetwork", notes)
		}
		if len(a.Policy.Results) != 1 || a.Policy.Results[0].Violations != 0 || len(a.Policy.Violations) != 0 {
			t.Errorf("policy %+v: want team-pods-apart-from-host to hold", a.Policy)
		}
	})

	t.Run("audit the sandbox", func(t *testing.T) {
		a := auditPod(t, p.id, sockFlag, 0)
		notes := strings.Join(a.Targets[0].Notes, "\n")
		if !strings.Contains(notes, "pod nsi-team/shop: this is its sandbox, which holds the pod's net, ipc, uts namespaces") {
			t.Errorf("notes %q: want the sandbox said to hold the pod's net, ipc, uts", notes)
		}
	})
}

// testSharedPIDPod: with shareProcessNamespace the pod's containers
// join its sandbox's pid namespace too.
func testSharedPIDPod(t *testing.T, cd *ownContainerd) {
	sockFlag := "--containerd-socket=" + cd.sock
	p := cd.runPod(t, "nsi-team", "tools", podOptions{sharePID: true})
	debugID, debugPID := cd.startContainer(t, p, "debug")
	shellID, shellPID := cd.startContainer(t, p, "shell")
	sb := nsLink(t, p.pid, "pid")
	if sb == hostNS(t, "pid") {
		t.Fatalf("the sandbox is in the host's pid namespace %s", sb)
	}
	for _, pid := range []int{debugPID, shellPID} {
		if got := nsLink(t, pid, "pid"); got != sb {
			t.Errorf("pid %d: pid namespace %s, the sandbox's is %s", pid, got, sb)
		}
	}

	t.Run("compare", func(t *testing.T) {
		var r podCompareJSON
		decodeRun(t, &r, "compare", "containerd:k8s.io/"+debugID, "containerd:k8s.io/"+shellID, "--json", sockFlag)
		checkPodCompare(t, r, "nsi-team/tools", map[string]bool{"net": true, "ipc": true, "uts": true, "pid": true, "mnt": false},
			map[string]string{"net": "by design", "ipc": "by design", "uts": "by design", "pid": "shareProcessNamespace"})
	})

	t.Run("audit", func(t *testing.T) {
		a := auditPod(t, debugID, sockFlag, 0)
		tg := a.Targets[0]
		if ns := tg.Facts.Namespaces["pid"]; ns.Shared || !ns.Proven {
			t.Errorf("pid: shared %v proven %v, want proven separate from the host", ns.Shared, ns.Proven)
		}
		if notes := strings.Join(tg.Notes, "\n"); !strings.Contains(notes, "pod nsi-team/tools: this container joins its pod sandbox's net, ipc, uts, pid namespaces by design") {
			t.Errorf("notes %q: want the pod's sharing of net, ipc, uts and pid said", notes)
		}
	})
}

// nsinspectOK runs nsinspect, wants exit 0 and returns its stdout.
func nsinspectOK(t *testing.T, args ...string) string {
	t.Helper()
	r := nsinspect(t, args...)
	if r.code != 0 {
		t.Fatalf("nsinspect %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}
