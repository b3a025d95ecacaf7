package render

import (
	"bytes"
	"slices"
	"testing"

	"github.com/nsinspect/nsinspect/bpfiter"
	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/internal/golden"
	"github.com/nsinspect/nsinspect/internal/taskobj"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/sharing"
)

// objs is a task's Obj array with the given ids, by object.
func objs(ids map[taskobj.Object]uint64) [taskobj.Count]uint64 {
	var o [taskobj.Count]uint64
	for k, v := range ids {
		o[k] = v
	}
	return o
}

func TestKernelObjects(t *testing.T) {
	s := &bpfiter.Snapshot{Tasks: []bpfiter.Task{
		{TGID: 10, TID: 10, Comm: "leader", Obj: objs(map[taskobj.Object]uint64{taskobj.NSProxy: 1, taskobj.Files: 1, taskobj.MM: 1, taskobj.Signal: 1})},
		{TGID: 20, TID: 20, Comm: "child", Obj: objs(map[taskobj.Object]uint64{taskobj.NSProxy: 1, taskobj.Files: 2, taskobj.MM: 2, taskobj.Signal: 2})},
		{TGID: 10, TID: 30, Comm: "thread", Obj: objs(map[taskobj.Object]uint64{taskobj.NSProxy: 1, taskobj.Files: 1, taskobj.MM: 1, taskobj.Signal: 1})},
		{TGID: 10, TID: 11, Comm: "thread", Obj: objs(map[taskobj.Object]uint64{taskobj.NSProxy: 1, taskobj.Files: 1, taskobj.MM: 1, taskobj.Signal: 1})},
		// Outside our pid namespace: it cannot be named.
		{TGID: 0, TID: 0, Comm: "hidden", Obj: objs(map[taskobj.Object]uint64{taskobj.NSProxy: 1})},
	}}
	k := inspect.KernelObjects(s, &s.Tasks[0])
	if len(k.Objects) != int(taskobj.Count) {
		t.Fatalf("%d objects, want %d", len(k.Objects), taskobj.Count)
	}
	tids := func(o inspect.KernelObject) []int {
		var out []int
		for _, x := range o.SharedWith {
			out = append(out, x.TID)
		}
		return out
	}
	want := map[string][]int{"nsproxy": {11, 30, 20}, "files": {11, 30}, "mm": {11, 30}, "signal": {11, 30}, "io": nil}
	for _, o := range k.Objects {
		w, ok := want[o.Name]
		if !ok {
			continue
		}
		if got := tids(o); !slices.Equal(got, w) {
			t.Errorf("%s: shared with %v, want %v (by PID, then TID)", o.Name, got, w)
		}
	}
	if io := k.Objects[taskobj.IO]; io.ID != 0 || io.SharedWith == nil {
		t.Errorf("io: id %d shared_with %v, want none and []", io.ID, io.SharedWith)
	}
	var b bytes.Buffer
	if err := KernelObjects(&b, k); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "show-kernel.txt", b.Bytes())
}

func TestSharedTextLimits(t *testing.T) {
	ts := []inspect.KernelTask{{PID: 1, TID: 1, Comm: "a"}, {PID: 2, TID: 2, Comm: "b"}, {PID: 2, TID: 3, Comm: "c"}}
	if got, want := sharedText(ts, 2), "3: 1(a) 2(b) and 1 more (--json lists all)"; got != want {
		t.Errorf("sharedText = %q, want %q", got, want)
	}
	if got := sharedText(nil, 2); got != "no other task" {
		t.Errorf("sharedText(nil) = %q", got)
	}
}

// show names each socket made in another network namespace, with its fd.
func TestShowOtherNetSockets(t *testing.T) {
	var b bytes.Buffer
	s := inspect.Show{PID: 7, Tgid: 7, OtherNetSockets: []sharing.SocketNet{
		{FD: 3, NS: namespaces.NS{Type: namespaces.Net, Ino: 4026532301, ID: 12}},
		{FD: 5, NS: namespaces.NS{Type: namespaces.Net, Ino: 4026532417}},
	}}
	if err := Show(&b, s); err != nil {
		t.Fatal(err)
	}
	if want := "sockets in other net namespaces:  net:[4026532301] (fd 3), net:[4026532417] (fd 5)\n"; !bytes.Contains(b.Bytes(), []byte(want)) {
		t.Errorf("show:\n%s\nwant a line %q", b.Bytes(), want)
	}
}
