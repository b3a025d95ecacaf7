package integration

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// cloneJSON is the part of `clone --json` scripts rely on.
type cloneJSON struct {
	Flags   []string `json:"flags"`
	Value   uint64   `json:"value"`
	Syscall string   `json:"syscall"`
	Errno   *string  `json:"errno"`
	Parent  *struct {
		PID int `json:"pid"`
	} `json:"parent"`
	Child *struct {
		PID int `json:"pid"`
	} `json:"child"`
	Resources []struct {
		Name     string          `json:"name"`
		Shared   *bool           `json:"shared"`
		Expected bool            `json:"expected"`
		Evidence json.RawMessage `json:"evidence"`
		Agree    bool            `json:"agree"`
	} `json:"resources"`
	Probes []struct {
		Name   string `json:"name"`
		Shared *bool  `json:"shared"`
	} `json:"probes"`
	Explanation   []string `json:"explanation"`
	Disagreements []string `json:"disagreements"`
}

var resourceOrder = []string{"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "time_for_children", "user", "uts", "files", "fs", "vm", "sighand", "io", "sysvsem"}

func TestCloneJSON(t *testing.T) {
	testutil.RequireRoot(t)
	var rep cloneJSON
	out := mustRun(t, "clone", "CLONE_NEWNET|CLONE_FILES", "--json")
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("clone --json: %v\n%s", err, out)
	}
	if strings.Join(rep.Flags, "|") != "CLONE_NEWNET|CLONE_FILES" || rep.Value != 0x40000400 || rep.Syscall != "clone" || rep.Errno != nil {
		t.Errorf("header: flags %v value %#x syscall %s errno %v", rep.Flags, rep.Value, rep.Syscall, rep.Errno)
	}
	if rep.Parent == nil || rep.Child == nil || rep.Parent.PID == 0 || rep.Child.PID == 0 || rep.Parent.PID == rep.Child.PID {
		t.Fatalf("parent/child pids missing: %+v %+v", rep.Parent, rep.Child)
	}
	if len(rep.Resources) != len(resourceOrder) {
		t.Fatalf("%d resources, want %d", len(rep.Resources), len(resourceOrder))
	}
	for i, r := range rep.Resources {
		if r.Name != resourceOrder[i] || r.Shared == nil || len(r.Evidence) < 3 || !r.Agree {
			t.Errorf("resource %d: %+v", i, r)
		}
		want := r.Name != "net" && r.Name != "fs" && r.Name != "vm" && r.Name != "sighand" && r.Name != "io" && r.Name != "sysvsem"
		if r.Shared != nil && *r.Shared != want {
			t.Errorf("%s: shared %v, want %v", r.Name, *r.Shared, want)
		}
	}
	probes := map[string]bool{}
	for _, p := range rep.Probes {
		if p.Shared != nil {
			probes[p.Name] = *p.Shared
		}
	}
	if len(probes) != 8 || !probes["fd"] || probes["net link"] || !probes["hostname"] {
		t.Errorf("probes: %v", probes)
	}
}

// A combination the kernel refuses exits 3 and says which rule it broke.
func TestCloneRefused(t *testing.T) {
	testutil.RequireRoot(t)
	r := nsinspect(t, "clone", "sighand")
	if r.code != 3 || !strings.Contains(r.stdout, "EINVAL") || !strings.Contains(r.stdout, "CLONE_SIGHAND requires CLONE_VM") {
		t.Errorf("clone sighand: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = nsinspect(t, "clone", "newipc,sysvsem", "--json")
	var rep cloneJSON
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 3 || rep.Errno == nil || *rep.Errno != "EINVAL" || len(rep.Explanation) == 0 {
		t.Errorf("clone newipc,sysvsem --json: exit %d, %v, %+v", r.code, err, rep)
	}
}

func TestUnshareCommand(t *testing.T) {
	testutil.RequireRoot(t)
	var rep struct {
		Links []struct {
			Link    string `json:"link"`
			Changed bool   `json:"changed"`
		} `json:"links"`
		Disagreements []string `json:"disagreements"`
	}
	out := mustRun(t, "unshare", "newpid,newnet", "--json")
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	changed := map[string]bool{}
	for _, l := range rep.Links {
		changed[l.Link] = l.Changed
	}
	if changed["pid"] || !changed["pid_for_children"] || !changed["net"] || changed["uts"] || len(rep.Disagreements) != 0 {
		t.Errorf("unshare newpid,newnet: %v %v", changed, rep.Disagreements)
	}
	if r := nsinspect(t, "unshare", "newuser", "--thread"); r.code != 3 || !strings.Contains(r.stdout, "EINVAL") {
		t.Errorf("unshare newuser --thread: exit %d %s", r.code, r.stdout)
	}
}

func TestMatrixCommand(t *testing.T) {
	testutil.RequireRoot(t)
	var m struct {
		Experiments []struct {
			Flags []string `json:"flags"`
			Errno *string  `json:"errno"`
		} `json:"experiments"`
		Disagreements int `json:"disagreements"`
	}
	out := mustRun(t, "matrix", "--json")
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, e := range m.Experiments {
		if e.Errno != nil {
			refused++
		}
	}
	// 19 flags (CLONE_INTO_CGROUP needs a cgroup): 19 singles + 171 pairs.
	if len(m.Experiments) != 190 || m.Disagreements != 0 || refused == 0 {
		t.Errorf("matrix: %d experiments, %d refused, %d disagreements", len(m.Experiments), refused, m.Disagreements)
	}
}

// Without root the lab is made inside a new user namespace, where the
// kernel allows unprivileged user namespaces (it does here).
func TestCloneUnprivileged(t *testing.T) {
	testutil.RequireRoot(t) // to switch to nobody
	r := runAs(t, nobody(), "clone", "net,files", "--json")
	var rep struct {
		Mode          string   `json:"mode"`
		Disagreements []string `json:"disagreements"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 || rep.Mode != "lab-userns" || len(rep.Disagreements) != 0 {
		t.Errorf("clone as nobody: exit %d, mode %q, %v, %v\nstderr %s", r.code, rep.Mode, rep.Disagreements, err, r.stderr)
	}
}
