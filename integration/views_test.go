package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/linux"
	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/namespaces"
)

// rel is where one namespace hangs, as "type:ino" names ("" for none):
// its parent (pid and user namespaces) and its owning user namespace,
// which for a user namespace is its parent (ioctl_ns(2)).
type rel struct{ parent, owner string }

func nsName(typ string, ino uint64) string {
	if ino == 0 {
		return ""
	}
	return typ + ":" + strconv.FormatUint(ino, 10)
}

// TestViewsAgreeOnHierarchy makes nested user and pid namespaces, network
// namespaces owned by them and a thread-only network namespace, then runs
// the four views of one model (ls --json, ls --tree, nsproxy --json,
// graph) and checks that each shows every one of these namespaces with the
// parent and owner the kernel gives (NS_GET_PARENT, NS_GET_USERNS, read by
// the test on fds it holds, so that no inode is reused meanwhile).
func TestViewsAgreeOnHierarchy(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireCommand(t, "unshare", "util-linux")
	// outer: user U1, pid P1 (for its child), net N1; inner (pid 1 of
	// P1): user U2 inside U1, pid P2 inside P1, net N2 owned by U2.
	cmd := testutil.StartReady(t, "unshare", "--user", "--map-root-user", "--pid", "--net", "--fork", "--kill-child",
		"unshare", "--user", "--map-root-user", "--pid", "--net", "--fork", "--kill-child",
		"sh", "-c", "echo ready; exec sleep 1000")
	outer := cmd.Process.Pid
	inner := onlyChild(t, outer)
	sleeper := onlyChild(t, inner)
	tid := testutil.ThreadUnshare(t, unix.CLONE_NEWNET)

	truth := map[string]rel{}
	for _, path := range []string{
		fmt.Sprintf("/proc/%d/ns/user", outer),
		fmt.Sprintf("/proc/%d/ns/pid_for_children", outer),
		fmt.Sprintf("/proc/%d/ns/net", outer),
		fmt.Sprintf("/proc/%d/ns/user", sleeper),
		fmt.Sprintf("/proc/%d/ns/pid", sleeper),
		fmt.Sprintf("/proc/%d/ns/net", sleeper),
		fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), tid),
		"/proc/self/ns/user",
		"/proc/self/ns/pid",
	} {
		name, r := kernelRel(t, path)
		truth[name] = r
	}
	if len(truth) != 9 {
		t.Fatalf("the population has %d distinct namespaces, want 9: %v", len(truth), truth)
	}

	views := map[string]map[string]rel{
		"ls --json":      lsRels(t),
		"ls --tree":      treeRels(t),
		"nsproxy --json": nsproxyRels(t),
		"graph":          graphRels(t),
	}
	for view, rels := range views {
		for name, want := range truth {
			got, ok := rels[name]
			switch {
			case !ok:
				t.Errorf("%s does not show %s", view, name)
			case got != want:
				t.Errorf("%s: %s has parent %q owner %q; the kernel says parent %q owner %q", view, name, got.parent, got.owner, want.parent, want.owner)
			}
		}
	}
}

// onlyChild waits for pid's one child and returns it.
func onlyChild(t *testing.T, pid int) int {
	t.Helper()
	s := waitProc(t, pid, fmt.Sprintf("task/%d/children", pid), func(s string) bool { return s != "" })
	f := strings.Fields(s)
	if len(f) != 1 {
		t.Fatalf("pid %d has children %v, want one", pid, f)
	}
	c, err := strconv.Atoi(f[0])
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// kernelRel opens the nsfs file at path, keeps it open for the test, and
// asks the kernel for its parent and owner.
func kernelRel(t *testing.T, path string) (string, rel) {
	t.Helper()
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	ns, err := namespaces.FromFD(fd)
	if err != nil {
		t.Fatal(err)
	}
	ask := func(get func(int) (int, error)) string {
		rfd, err := get(fd)
		if err != nil {
			return "" // EPERM at the top of what we may see, EINVAL for none
		}
		defer unix.Close(rfd)
		r, err := namespaces.FromFD(rfd)
		if err != nil {
			t.Fatal(err)
		}
		return nsName(r.Type.Name(), r.Ino)
	}
	var r rel
	if ns.Type.Hierarchical() {
		r.parent = ask(linux.NsGetParent)
	}
	r.owner = ask(linux.NsGetUserns)
	return nsName(ns.Type.Name(), ns.Ino), r
}

func lsRels(t *testing.T) map[string]rel {
	var doc struct {
		Namespaces []struct {
			NS   uint64 `json:"ns"`
			Type string `json:"type"`
			PNS  uint64 `json:"pns"`
			ONS  uint64 `json:"ons"`
		} `json:"namespaces"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "ls", "--json")), &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]rel{}
	for _, n := range doc.Namespaces {
		out[nsName(n.Type, n.NS)] = rel{parent: nsName(n.Type, n.PNS), owner: nsName("user", n.ONS)}
	}
	return out
}

var treeLabel = regexp.MustCompile(`^([a-z]+):\[(\d+)\]`)

// treeRels reads ls --tree: first the user namespaces by parent with the
// namespaces each owns beneath it, then the pid namespaces by parent.
func treeRels(t *testing.T) map[string]rel {
	out := map[string]rel{}
	var path []string // the names on the way to the current line, by depth
	pidForest := false
	for _, line := range strings.Split(strings.TrimSpace(mustRun(t, "ls", "--tree")), "\n") {
		// Each level of depth is two runes: "├─", "└─", "│ " or "  ".
		body := strings.TrimLeft(line, "├└│─ ")
		prefix := len([]rune(line[:len(line)-len(body)])) / 2
		m := treeLabel.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("ls --tree line %q does not start with a namespace", line)
		}
		name := m[1] + ":" + m[2]
		if prefix == 0 && m[1] == "pid" {
			pidForest = true
		}
		path = append(path[:min(prefix, len(path))], name)
		up := ""
		if prefix > 0 {
			up = path[prefix-1]
		}
		r := out[name]
		switch {
		case pidForest:
			r.parent = up
		case m[1] == "user":
			r.parent, r.owner = up, up
		default:
			r.owner = up
		}
		out[name] = r
	}
	return out
}

func nsproxyRels(t *testing.T) map[string]rel {
	type nsJSON struct {
		Type   string `json:"type"`
		Ino    uint64 `json:"ns"`
		Parent *struct {
			Type string `json:"type"`
			Ino  uint64 `json:"ns"`
		} `json:"parent"`
		Owner *struct {
			Ino uint64 `json:"ns"`
		} `json:"owner"`
	}
	var doc struct {
		Sets []struct {
			Namespaces []struct {
				NS nsJSON `json:"namespace"`
			} `json:"namespaces"`
			Context []struct {
				NS []nsJSON `json:"namespaces"`
			} `json:"context"`
		} `json:"sets"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "nsproxy", "--json")), &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]rel{}
	add := func(n nsJSON) {
		var r rel
		if n.Parent != nil {
			r.parent = nsName(n.Parent.Type, n.Parent.Ino)
		}
		if n.Owner != nil {
			r.owner = nsName("user", n.Owner.Ino)
		}
		out[nsName(n.Type, n.Ino)] = r
	}
	for _, s := range doc.Sets {
		for _, l := range s.Namespaces {
			add(l.NS)
		}
		for _, c := range s.Context {
			for _, n := range c.NS {
				add(n)
			}
		}
	}
	return out
}

var (
	dotNode = regexp.MustCompile(`^\s*"(ns_[^"]+)" \[label="([a-z]+):\[(\d+)\]`)
	dotEdge = regexp.MustCompile(`^\s*"(ns_[^"]+)" -> "(ns_[^"]+)" \[label="(parent|owner)"`)
)

// graphRels reads graph's DOT: namespace nodes, and parent and owner
// edges between them. A user namespace's owner is its parent, drawn once
// as "parent".
func graphRels(t *testing.T) map[string]rel {
	dot := mustRun(t, "graph")
	names := map[string]string{}
	for _, line := range strings.Split(dot, "\n") {
		if m := dotNode.FindStringSubmatch(line); m != nil {
			names[m[1]] = m[2] + ":" + m[3]
		}
	}
	out := map[string]rel{}
	for _, name := range names {
		out[name] = rel{}
	}
	for _, line := range strings.Split(dot, "\n") {
		m := dotEdge.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		from, to := names[m[1]], names[m[2]]
		if from == "" || to == "" {
			t.Fatalf("graph edge %q joins undefined nodes", line)
		}
		r := out[from]
		if m[3] == "parent" {
			r.parent = to
			if strings.HasPrefix(from, "user:") {
				r.owner = to
			}
		} else {
			r.owner = to
		}
		out[from] = r
	}
	return out
}
