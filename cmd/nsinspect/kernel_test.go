package main

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/nsinspect/nsinspect/bpfiter"
	"github.com/nsinspect/nsinspect/nsgroup"
	"github.com/nsinspect/nsinspect/sharing"
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
	g := nsgroup.ByNSProxy(m.Tasks)
	var text, js bytes.Buffer
	renderNSProxy(&text, len(m.Tasks), g)
	if err := writeJSON(&js, newNSProxyOut("bpf", len(m.Tasks), g)); err != nil {
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

func TestCompareWitness(t *testing.T) {
	yes, no := true, false
	r := &sharing.Report{Resources: []sharing.Resource{
		{Name: "files", Shared: &yes}, {Name: "fs", Shared: &no}, {Name: "vm", Shared: &yes},
		{Name: "sighand", Shared: &no}, {Name: "io"}, {Name: "sysvsem"},
	}}
	a := &bpfiter.Task{Obj: objs(map[bpfiter.Object]uint64{bpfiter.Files: 1, bpfiter.FS: 1, bpfiter.MM: 1, bpfiter.Sighand: 1, bpfiter.IO: 3})}
	// vm: kcmp said shared, BPF read two objects: a task changed between.
	b := &bpfiter.Task{Obj: objs(map[bpfiter.Object]uint64{bpfiter.Files: 1, bpfiter.FS: 2, bpfiter.MM: 2, bpfiter.Sighand: 2})}
	k := witness(r, a, b)
	want := map[string]struct{ same, agrees string }{
		"files": {"same", "true"}, "fs": {"different", "true"}, "vm": {"different", "false"},
		"sighand": {"different", "true"}, "io": {"different", "?"}, "sysvsem": {"both NULL", "?"},
	}
	for _, v := range k.Resources {
		w := want[v.Name]
		agrees := "?"
		if v.Agrees != nil {
			agrees = strconv.FormatBool(*v.Agrees)
		}
		if got := sameWord(v.Same, "both NULL"); got != w.same || agrees != w.agrees {
			t.Errorf("%s: bpf %s agrees %s, want %s and %s", v.Name, got, agrees, w.same, w.agrees)
		}
	}
	var b2 bytes.Buffer
	if err := writeKernelWitness(&b2, k); err != nil {
		t.Fatal(err)
	}
	golden(t, "compare-kernel.txt", b2.Bytes())
}
