package render

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nsinspect/nsinspect/clone/report"
	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/internal/golden"
	"github.com/nsinspect/nsinspect/internal/taskobj"
	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/nsgraph"
)

// The renderers' golden tests: each renders a fixture report, built by
// hand, and compares the bytes with testdata/golden/NAME (golden.Check;
// rerun with -update after a deliberate change of output).

// fixtureModel is a small host: the initial namespaces, one container
// made with --user --pid --net (user, pid and net namespaces owned by its
// user namespace), a thread alone in a uts namespace, a network namespace
// held only by a bind mount, one held only by a socket, a process that
// unshared a pid namespace that has no process yet, and a zombie. ids are set as on Linux 6.18;
// noIDs strips them, as on older kernels.
func fixtureModel(noIDs bool) *model.Model {
	id := func(n uint64) uint64 {
		if noIDs {
			return 0
		}
		return n
	}
	ns := func(t namespaces.Type, ino, nsid uint64, src model.Source) *model.Namespace {
		return &model.Namespace{NS: namespaces.NS{Type: t, ID: id(nsid), Ino: ino, Dev: 4}, Sources: src, NetNSID: model.NetNSIDUnknown}
	}
	proc := model.FromProcess
	userInit := ns(namespaces.User, 4026531837, 4099, proc)
	pidInit := ns(namespaces.PID, 4026531836, 4100, proc)
	init := []*model.Namespace{
		ns(namespaces.Mount, 4026531832, 4, proc), ns(namespaces.Net, 4026531833, 3, proc),
		ns(namespaces.Time, 4026531834, 2, proc), ns(namespaces.Cgroup, 4026531835, 5, proc),
		pidInit, userInit, ns(namespaces.UTS, 4026531838, 1, proc), ns(namespaces.IPC, 4026531839, 4098, proc),
	}
	for _, n := range init {
		n.NProcs, n.PID, n.PPID, n.UID, n.Command = 3, 1, 0, 0, "/sbin/init"
		if n != userInit {
			n.Owner = userInit
		}
	}
	init[1].NetNSID = 0
	userC := ns(namespaces.User, 4026532300, 8001, proc)
	userC.Parent, userC.Owner = userInit, userInit
	pidC := ns(namespaces.PID, 4026532301, 8002, proc|model.FromChildren)
	pidC.Parent, pidC.Owner = pidInit, userC
	netC := ns(namespaces.Net, 4026532302, 8003, proc)
	netC.Owner, netC.NetNSID = userC, 1
	for _, n := range []*model.Namespace{userC, pidC, netC} {
		n.NProcs, n.PID, n.PPID, n.UID, n.Command = 1, 700, 1, 4242, "sleep 1000"
	}
	utsT := ns(namespaces.UTS, 4026532310, 8010, model.FromThread)
	utsT.Owner, utsT.Threads = userInit, []model.TaskRef{{PID: 1, TID: 12}}
	netB := ns(namespaces.Net, 4026532320, 8020, model.FromBindMount|model.FromFD)
	netB.Owner = userInit
	netB.BindMounts = []model.BindMount{
		{Path: "/run/netns/blue", MntNS: id(4), MntNSIno: 4026531832, PID: 1},
		{Path: "/srv/blue", MntNS: id(4), MntNSIno: 4026531832, PID: 1},
	}
	netB.NetNSID, netB.NSFS = model.NetNSIDUnassigned, []string{"/run/netns/blue", "/srv/blue"}
	netB.FDs = []model.FD{{PID: 1, FD: 7}}
	netS := ns(namespaces.Net, 4026532330, 8030, model.FromSocket)
	netS.Owner, netS.NetNSID = userInit, model.NetNSIDUnassigned
	netS.Sockets = []model.FD{{PID: 1, FD: 9}}
	pidU := ns(namespaces.PID, 4026532340, 8040, model.FromChildren|model.FromUnborn)
	pidU.Parent, pidU.Owner = pidInit, userInit

	all := append(init, userC, pidC, netC, utsT, netB, netS, pidU)
	links := func(over map[string]*model.Namespace) []*model.Namespace {
		out := make([]*model.Namespace, len(namespaces.Links))
		for i, l := range namespaces.Links {
			for _, n := range init {
				if n.Type == l.Type {
					out[i] = n
				}
			}
			if o, ok := over[l.Name]; ok {
				out[i] = o
			}
		}
		return out
	}
	task := func(pid, tid, ppid int, comm string, over map[string]*model.Namespace) *model.Task {
		return &model.Task{PID: pid, TID: tid, PPID: ppid, Comm: comm, State: 'S', NS: links(over), Missing: make([]string, len(namespaces.Links))}
	}
	kthreadd := task(2, 2, 0, "kthreadd", nil)
	kthreadd.Kernel, kthreadd.Affinity = true, "0-1"
	kworker := task(3, 3, 2, "kworker/0:0", nil)
	kworker.Kernel, kworker.Affinity, kworker.State = true, "0", 'I'
	container := task(700, 700, 1, "sleep", map[string]*model.Namespace{"user": userC, "pid": pidC, "pid_for_children": pidC, "net": netC})
	unsharer := task(702, 702, 1, "sleep", map[string]*model.Namespace{"pid_for_children": pidU})
	zombie := task(701, 701, 1, "defunct", nil)
	zombie.State = 'Z'
	for i, l := range namespaces.Links {
		if l.Name != "pid" && l.Name != "user" {
			zombie.NS[i], zombie.Missing[i] = nil, "zombie"
		}
	}
	tasks := []*model.Task{
		task(1, 1, 0, "init", nil), task(1, 12, 0, "init-worker", map[string]*model.Namespace{"uts": utsT}),
		kthreadd, kworker, container, zombie, unsharer,
	}
	return &model.Model{Namespaces: all, Tasks: tasks, Processes: 5}
}

func TestGoldenLs(t *testing.T) {
	for _, c := range []struct {
		name  string
		noIDs bool
	}{{"ls", false}, {"ls-noid", true}} {
		m := fixtureModel(c.noIDs)
		users := inspect.UserNames{0: "root", 4242: "4242"}
		var table, js, tree bytes.Buffer
		if err := LsTable(&table, m.Namespaces, users); err != nil {
			t.Fatal(err)
		}
		if err := JSON(&js, inspect.LsOf("proc", m.Namespaces, users)); err != nil {
			t.Fatal(err)
		}
		keepAll := func(*model.Namespace) bool { return true }
		if err := LsTree(&tree, m.Namespaces, keepAll, users); err != nil {
			t.Fatal(err)
		}
		golden.Check(t, c.name+".txt", table.Bytes())
		golden.Check(t, c.name+".json", js.Bytes())
		golden.Check(t, c.name+"-tree.txt", tree.Bytes())
	}
}

func TestGoldenNSProxy(t *testing.T) {
	m := fixtureModel(false)
	m.Source = "proc"
	out := inspect.NSProxyOf(m)
	var text, js bytes.Buffer
	if err := NSProxy(&text, out); err != nil {
		t.Fatal(err)
	}
	if err := JSON(&js, out); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "nsproxy.txt", text.Bytes())
	golden.Check(t, "nsproxy.json", js.Bytes())
}

func TestGoldenKthreads(t *testing.T) {
	m := fixtureModel(false)
	m.Source = "proc"
	for _, asJSON := range []bool{false, true} {
		var b bytes.Buffer
		write := Kthreads
		if asJSON {
			write = func(w io.Writer, k inspect.Kthreads) error { return JSON(w, k) }
		}
		if err := write(&b, inspect.KthreadsOf(m)); err != nil {
			t.Fatal(err)
		}
		name := "kthreads.txt"
		if asJSON {
			name = "kthreads.json"
		}
		golden.Check(t, name, b.Bytes())
	}
}

func TestGoldenGraph(t *testing.T) {
	var b bytes.Buffer
	if err := nsgraph.Processes(fixtureModel(false).Tasks).WriteDOT(&b); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "graph.dot", b.Bytes())
}

// The fixture host of golden_test.go as the BPF source sees it: init and
// kthreadd share one nsproxy; the kworker has the same set in a copy of
// its own (as after setns); the thread in its own uts namespace and the
// container have theirs, and so has the process that unshared a pid
// namespace (unshare(2) gives a new nsproxy); the zombie has none.
func TestGoldenNSProxyBPF(t *testing.T) {
	m := fixtureModel(false)
	proxy := map[[2]int]uint64{{1, 1}: 1, {1, 12}: 3, {2, 2}: 1, {3, 3}: 2, {700, 700}: 4, {702, 702}: 5}
	for _, task := range m.Tasks {
		task.Objects = make([]uint64, taskobj.Count)
		task.Objects[taskobj.NSProxy] = proxy[[2]int{task.PID, task.TID}]
	}
	m.Source = "bpf"
	out := inspect.NSProxyOf(m)
	var text, js bytes.Buffer
	if err := NSProxy(&text, out); err != nil {
		t.Fatal(err)
	}
	if err := JSON(&js, out); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "nsproxy-bpf.txt", text.Bytes())
	golden.Check(t, "nsproxy-bpf.json", js.Bytes())
	for _, want := range []string{"  nsproxy 1*: 1(init) 2(kthreadd)\n", "  nsproxy 2*: 3(kworker/0:0)\n", "  nsproxy 4: 700(sleep)\n"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the table has no line %q", want)
		}
	}
}

// nsproxy -p: the fixture host cut to one task's nsproxy, from /proc (its
// set) and from BPF (its instance: kworker/0:0 has a copy of init's set).
func TestGoldenNSProxyTask(t *testing.T) {
	for _, source := range []string{"proc", "bpf"} {
		m := fixtureModel(false)
		m.Source = source
		if source == "bpf" {
			proxy := map[[2]int]uint64{{1, 1}: 1, {1, 12}: 3, {2, 2}: 1, {3, 3}: 2, {700, 700}: 4}
			for _, task := range m.Tasks {
				task.Objects = make([]uint64, taskobj.Count)
				task.Objects[taskobj.NSProxy] = proxy[[2]int{task.PID, task.TID}]
			}
		}
		out := inspect.NSProxyOf(m).Cut(inspect.NSProxyTask{Arg: "3", PID: 3, TID: 3, Comm: "kworker/0:0"})
		var text, js bytes.Buffer
		if err := NSProxy(&text, out); err != nil {
			t.Fatal(err)
		}
		if err := JSON(&js, out); err != nil {
			t.Fatal(err)
		}
		golden.Check(t, "nsproxy-task-"+source+".txt", text.Bytes())
		golden.Check(t, "nsproxy-task-"+source+".json", js.Bytes())
	}
}

// The experiment renderers over fixture reports: JSON that nsinspect
// printed for real experiments (clone newnet,files; the refused clone
// sighand; unshare net), decoded, rendered as the table golden file, and encoded
// again, which must give the fixture back byte for byte.
func TestGoldenReports(t *testing.T) {
	for _, c := range []struct {
		fixture string
		decode  func([]byte) (any, error)
		render  func(io.Writer, any) error
	}{
		{"clone-newnet-files", decodeAs[report.Clone], func(w io.Writer, v any) error { return Clone(w, v.(*report.Clone)) }},
		{"clone-sighand-refused", decodeAs[report.Clone], func(w io.Writer, v any) error { return Clone(w, v.(*report.Clone)) }},
		{"unshare-net", decodeAs[report.Unshare], func(w io.Writer, v any) error { return Unshare(w, v.(*report.Unshare)) }},
	} {
		in, err := os.ReadFile(filepath.Join("testdata", "fixtures", c.fixture+".json"))
		if err != nil {
			t.Fatal(err)
		}
		v, err := c.decode(in)
		if err != nil {
			t.Fatalf("%s: %v", c.fixture, err)
		}
		var js, table bytes.Buffer
		if err := JSON(&js, v); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(js.Bytes(), in) {
			t.Errorf("%s: the JSON renderer does not give the fixture back:\n%s", c.fixture, js.Bytes())
		}
		if err := c.render(&table, v); err != nil {
			t.Fatal(err)
		}
		golden.Check(t, c.fixture+".txt", table.Bytes())
	}
}

func decodeAs[T any](b []byte) (any, error) {
	v := new(T)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return v, dec.Decode(v)
}
