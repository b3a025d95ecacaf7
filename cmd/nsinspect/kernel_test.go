package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/nsinspect/nsinspect/bpfiter"
	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/render"
)

// objs is a task's Obj array with the given ids, by object.
func objs(ids map[bpfiter.Object]uint64) [bpfiter.NObjects]uint64 {
	var o [bpfiter.NObjects]uint64
	for k, v := range ids {
		o[k] = v
	}
	return o
}

// The fixture host of golden_test.go as the BPF source sees it: init and
// kthreadd share one nsproxy; the kworker has the same set in a copy of
// its own (as after setns); the thread in its own uts namespace and the
// container have theirs; the zombie has none.
func TestGoldenNSProxyBPF(t *testing.T) {
	m := fixtureModel(false)
	proxy := map[[2]int]uint64{{1, 1}: 1, {1, 12}: 3, {2, 2}: 1, {3, 3}: 2, {700, 700}: 4}
	for _, task := range m.Tasks {
		task.Objects = make([]uint64, bpfiter.NObjects)
		task.Objects[bpfiter.NSProxy] = proxy[[2]int{task.PID, task.TID}]
	}
	m.Source = "bpf"
	out := inspect.NSProxyOf(m)
	var text, js bytes.Buffer
	if err := render.NSProxy(&text, out); err != nil {
		t.Fatal(err)
	}
	if err := writeJSON(&js, out); err != nil {
		t.Fatal(err)
	}
	golden(t, "nsproxy-bpf.txt", text.Bytes())
	golden(t, "nsproxy-bpf.json", js.Bytes())
	for _, want := range []string{"  nsproxy 1*: 1(init) 2(kthreadd)\n", "  nsproxy 2*: 3(kworker/0:0)\n", "  nsproxy 4: 700(sleep)\n"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the table has no line %q", want)
		}
	}
}
