package integration

import (
	"encoding/json"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/nsinspect/nsinspect/clone/flags"
	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/namespaces"
)

// TestExplainEveryFlagAndType asks for every clone flag, namespace type,
// *_for_children link and the exit signal, and runs the demo command each
// names; a flag experiments leave out is explained, and clone refuses it
// with why (exit 2).
func TestExplainEveryFlagAndType(t *testing.T) {
	testutil.RequireRoot(t)
	names := []string{}
	for _, f := range flags.Known {
		names = append(names, f.Name)
	}
	names = append(names, namespaces.TypeNames()...)
	names = append(names, "pid_for_children", "time_for_children", "SIGCHLD")
	demos := map[string]bool{}
	for _, n := range names {
		var e struct {
			Flag, Doc, Since, Demo string
			Isolates               string   `json:"isolates_or_shares"`
			Proc                   []string `json:"proc"`
			Errnos                 []any    `json:"errnos"`
		}
		explainEntry(t, n, &e)
		if e.Flag == "" || e.Doc == "" || e.Since == "" || e.Isolates == "" || len(e.Proc) == 0 || e.Errnos == nil || !strings.HasPrefix(e.Demo, "nsinspect ") {
			t.Errorf("explain %s: incomplete entry %+v", n, e)
		}
		demos[e.Demo] = true
	}
	for d := range demos {
		args := strings.Fields(strings.TrimPrefix(d, "nsinspect "))
		if r := nsinspect(t, args...); r.code != 0 {
			t.Errorf("demo %q: exit %d\n%s", d, r.code, r.stderr)
		}
	}
	for _, f := range flags.LeftOut {
		var e struct {
			Flag, Doc string
			LeftOut   string `json:"left_out"`
		}
		explainEntry(t, f.Name, &e)
		if e.Flag != f.Name || e.Doc == "" || e.LeftOut == "" {
			t.Errorf("explain %s: incomplete entry %+v", f.Name, e)
		}
		r := nsinspect(t, "clone", "net,"+f.Name)
		checkOneLineError(t, r, 2, "clone net,"+f.Name)
		if !strings.Contains(r.stderr, e.LeftOut) || strings.Contains(r.stderr, "unknown") {
			t.Errorf("clone net,%s: stderr %q; want why it is left out", f.Name, r.stderr)
		}
	}
	r := nsinspect(t, "explain", "CLONE_NEWFOO")
	if r.code != 2 || !strings.Contains(r.stderr, "CLONE_NEWNET") || !strings.Contains(r.stderr, "uts") {
		t.Errorf("explain of an unknown name: exit %d, stderr %q; want 2 listing the known names", r.code, r.stderr)
	}
}

// TestStructCommand checks the JSON shape on a struct whose layout the
// kernel's ABI fixes (clone_args), and the bad-input exits.
func TestStructCommand(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		testutil.Unavailable(t, "no kernel BTF", "boot a kernel with CONFIG_DEBUG_INFO_BTF=y")
	}
	var l struct {
		Name    string
		Size    int
		Members []struct {
			Name, Type   string
			Offset, Size int
		}
	}
	if err := json.Unmarshal([]byte(mustRun(t, "struct", "clone_args", "--json")), &l); err != nil {
		t.Fatal(err)
	}
	// clone_args is uapi: eleven __u64 in order (include/uapi/linux/sched.h).
	if l.Name != "clone_args" || l.Size != 88 || len(l.Members) != 11 || l.Members[10].Name != "cgroup" || l.Members[10].Offset != 80 || l.Members[0].Type != "__u64" {
		t.Errorf("clone_args: %+v", l)
	}
	// nsproxy's 4-byte count before its pointers leaves pahole's hole.
	var ns struct {
		Members []struct {
			Name string
			Hole int
		}
		Holes         int `json:"holes"`
		SumHoles      int `json:"sum_holes"`
		CachelineSize int `json:"cacheline_size"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "struct", "nsproxy", "--json", "--cacheline", "64")), &ns); err != nil {
		t.Fatal(err)
	}
	if len(ns.Members) < 2 || ns.Members[0].Name != "count" || ns.Members[0].Hole != 4 || ns.Holes != 1 || ns.SumHoles != 4 || ns.CachelineSize != 64 {
		t.Errorf("struct nsproxy --json: %+v; want a 4-byte hole after count, the only one, in 64-byte lines", ns)
	}
	if out := mustRun(t, "struct", "nsproxy"); !regexp.MustCompile(`  count\n +/\* XXX 4 bytes hole, try to pack \*/\n`).MatchString(out) {
		t.Errorf("struct nsproxy: no hole comment after count:\n%s", out)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"struct", "task_strct"}, 2, "closest: task_struct"},
		{[]string{"struct", "nsproxy", "--cacheline", "48"}, 2, "--cacheline"},
		{[]string{"struct", "nsproxy", "--btf", "/nonexistent"}, 2, "/nonexistent"},
		{[]string{"struct", "nsproxy", "--btf", "/etc/hostname"}, 2, "no BTF"},
		{[]string{"struct", "nsproxy", "--depth", "-2"}, 2, "--depth"},
	} {
		r := nsinspect(t, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("nsinspect %v: exit %d, stderr %q; want %d and one line with %q", tc.args, r.code, r.stderr, tc.code, tc.want)
		}
	}
}

// TestNSProxyCommand runs nsproxy on a process in a new net namespace.
func TestNSProxyCommand(t *testing.T) {
	pid, _ := testutil.Unshare(t, "--net")
	var out struct {
		Note string
		Sets []struct {
			Tasks []struct{ PID, TID int }
		}
	}
	if err := json.Unmarshal([]byte(mustRun(t, "nsproxy", "--json")), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.Note, "not its struct nsproxy pointer") {
		t.Errorf("note %q does not say userspace sees the set, not the pointer", out.Note)
	}
	found := 0
	for _, s := range out.Sets {
		for _, tk := range s.Tasks {
			if tk.TID == pid {
				found++
				if len(s.Tasks) != 1 {
					t.Errorf("unshare --net pid %d shares its set with %v", pid, s.Tasks)
				}
			}
		}
	}
	if found != 1 {
		t.Errorf("pid %d in %d sets, want 1", pid, found)
	}
}

// TestGraphCommand checks -p, --svg and clone --dot through the binary.
func TestGraphCommand(t *testing.T) {
	pid, _ := testutil.Unshare(t, "--uts")
	out := mustRun(t, "graph", "-p", strconv.Itoa(pid))
	if !strings.HasPrefix(out, `digraph "namespaces" {`) || !strings.Contains(out, `"p`+strconv.Itoa(pid)+`"`) {
		t.Errorf("graph -p %d:\n%s", pid, out)
	}
	if r := nsinspect(t, "graph", "-p", "0"); r.code != 2 {
		t.Errorf("graph -p 0: exit %d, want 2", r.code)
	}
	if r := nsinspect(t, "graph", "-p", "2147483646"); r.code != 2 || !strings.Contains(r.stderr, "no process") {
		t.Errorf("graph -p of a missing pid: exit %d %q, want 2", r.code, r.stderr)
	}
	if out := mustRun(t, "clone", "newnet,files", "--dot"); !strings.Contains(out, `"r_net_child"`) || !strings.Contains(out, `"r_files"`) {
		t.Errorf("clone newnet,files --dot: no separate net or shared files node:\n%s", out)
	}
	// Without dot on PATH: one line saying how to install it, exit 4.
	noDot := testutil.Command(t, testutil.Quick, binary, "graph", "--svg")
	noDot.Env = []string{"PATH=" + t.TempDir()}
	if r := runCmd(t, noDot); r.code != 4 || !strings.Contains(r.stderr, "apt-get install graphviz") {
		t.Errorf("graph --svg without dot: exit %d %q, want exit 4 naming apt-get install graphviz", r.code, r.stderr)
	}
	testutil.RequireCommand(t, "dot", "graphviz")
	if out := mustRun(t, "graph", "-p", strconv.Itoa(pid), "--svg"); !strings.Contains(out, "<svg") {
		t.Errorf("graph --svg printed no SVG")
	}
}

// explainEntry decodes into e the one entry of `explain NAME --json`.
func explainEntry(t *testing.T, name string, e any) {
	t.Helper()
	var doc struct {
		Explanations []json.RawMessage `json:"explanations"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "explain", name, "--json")), &doc); err != nil {
		t.Fatalf("explain %s --json: %v", name, err)
	}
	if len(doc.Explanations) != 1 {
		t.Fatalf("explain %s --json: %d entries, want 1", name, len(doc.Explanations))
	}
	if err := json.Unmarshal(doc.Explanations[0], e); err != nil {
		t.Fatalf("explain %s --json: %v", name, err)
	}
}
