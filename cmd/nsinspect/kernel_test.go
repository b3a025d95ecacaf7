package main

import (
	"bytes"
	"slices"
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

func TestFDDisagreements(t *testing.T) {
	k := func(name string, ino uint64) *walkFDJSON { return &walkFDJSON{Name: name, Ino: ino} }
	p := func(link string, ino uint64) *procFDJSON { return &procFDJSON{Link: link, Inode: ino} }
	long := strings.Repeat("x", 80)
	for _, c := range []struct {
		name string
		k    *walkFDJSON
		p    *procFDJSON
		want string // substring of the only disagreement, "" for none
	}{
		{"regular", k("hosts", 7), p("/etc/hosts", 7), ""},
		{"root dir", k("/", 2), p("/", 2), ""},
		{"deleted", k("x with space", 9), p("/tmp/x with space (deleted)", 9), ""},
		{"memfd", k("memfd:hello", 5), p("/memfd:hello (deleted)", 5), ""},
		{"name kept to 63 bytes", k(long[:63], 3), p("/tmp/"+long, 3), ""},
		{"pipe: d_dname", k("", 4), p("pipe:[4]", 4), ""},
		{"socket: d_dname", k("TCP", 5), p("socket:[5]", 5), ""},
		{"nsfs: d_dname", k("/", 6), p("net:[6]", 6), ""},
		{"closed between", nil, p("/etc/hosts", 7), "closed between"},
		{"opened between", k("hosts", 7), nil, "opened between"},
		{"fd reused", k("hosts", 7), p("/etc/passwd", 8), "inode differs"},
		{"bind mount", k("resolv.conf.real", 7), p("/etc/resolv.conf", 7), "is not the last component"},
	} {
		d := disagreements(c.k, c.p)
		switch {
		case c.want == "" && len(d) != 0:
			t.Errorf("%s: disagreements %q, want none", c.name, d)
		case c.want != "" && (len(d) != 1 || !strings.Contains(d[0], c.want)):
			t.Errorf("%s: disagreements %q, want one saying %q", c.name, d, c.want)
		}
	}
}

func TestGoldenFDsKernel(t *testing.T) {
	procSide := fdsJSON{PID: 42, FDs: []fdJSON{
		{FD: 0, Kind: "chr", Path: "/dev/null", Inode: 3},
		{FD: 1, Kind: "pipe", Path: "pipe:[100]", Inode: 100},
		{FD: 3, Kind: "regular", Path: "/tmp/a file (deleted)", Inode: 200},
		{FD: 4, Kind: "socket", Path: "socket:[300]", Inode: 300},
		{FD: 5, Kind: "regular", Path: "/etc/hosts", Inode: 400},
		{FD: 7, Kind: "regular", Path: "/etc/passwd", Inode: 500},
	}}
	walk := &bpfiter.Walk{PID: 42, MaxFDs: 64, FDs: []bpfiter.WalkFD{
		{FD: 0, Name: "null", Ino: 3, Mode: 0o20666, Flags: 2, SMagic: 0x01021994},
		{FD: 1, Name: "", Ino: 100, Mode: 0o10600, Flags: 1, SMagic: 0x50495045},
		{FD: 3, Name: "a file", Ino: 200, Mode: 0o100644, SMagic: 0xef53},
		{FD: 4, Name: "TCP", Ino: 300, Mode: 0o140777, Flags: 2, SMagic: 0x534f434b},
		{FD: 6, Name: "[eventfd]", Ino: 1038, Mode: 0o600, Flags: 2, SMagic: 0x09041934},
		{FD: 7, Name: "group", Ino: 501, Mode: 0o100644, SMagic: 0xef53},
	}}
	out := mergeFDs(procSide, walk)
	if out.Agree {
		t.Error("agree with fd 5 closed, 6 opened and 7 reused")
	}
	var nums []int
	for _, f := range out.FDs {
		nums = append(nums, f.FD)
	}
	if !slices.Equal(nums, []int{0, 1, 3, 4, 5, 6, 7}) {
		t.Errorf("fds %v, want the union in order", nums)
	}
	var b bytes.Buffer
	if err := writeFDsKernel(&b, out); err != nil {
		t.Fatal(err)
	}
	golden(t, "fds-kernel.txt", b.Bytes())
	var js bytes.Buffer
	if err := writeJSON(&js, out); err != nil {
		t.Fatal(err)
	}
	golden(t, "fds-kernel.json", js.Bytes())
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
