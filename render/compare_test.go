package render

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/nsinspect/nsinspect/bpfiter"
	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/internal/golden"
	"github.com/nsinspect/nsinspect/internal/taskobj"
	"github.com/nsinspect/nsinspect/sharing"
)

func TestCompareWitness(t *testing.T) {
	yes, no := true, false
	r := &sharing.Report{Resources: []sharing.Resource{
		{Name: "files", Shared: &yes}, {Name: "fs", Shared: &no}, {Name: "vm", Shared: &yes},
		{Name: "sighand", Shared: &no}, {Name: "io"}, {Name: "sysvsem"},
	}}
	a := &bpfiter.Task{Obj: objs(map[taskobj.Object]uint64{taskobj.Files: 1, taskobj.FS: 1, taskobj.MM: 1, taskobj.Sighand: 1, taskobj.IO: 3})}
	// vm: kcmp said shared, BPF read two objects: a task changed between.
	b := &bpfiter.Task{Obj: objs(map[taskobj.Object]uint64{taskobj.Files: 1, taskobj.FS: 2, taskobj.MM: 2, taskobj.Sighand: 2})}
	k := inspect.Witness(r, a, b)
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
	if err := kernelWitness(&b2, k); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "compare-kernel.txt", b2.Bytes())
}

// compare's table over a fixture report, JSON that nsinspect printed,
// decoded, rendered as the golden table, and encoded again, which must
// give the fixture back byte for byte: a sleep compared with one in new
// net and uts namespaces (netuts); two containers of one Kubernetes pod
// on containerd, whose shared net, ipc and uts namespaces carry the
// note that the pod shares them by design, a footnote of three rows
// (pod).
func TestGoldenCompareReport(t *testing.T) {
	for _, name := range []string{"compare-netuts", "compare-pod"} {
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", "fixtures", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var v inspect.Compare
			dec := json.NewDecoder(bytes.NewReader(in))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			var js, table bytes.Buffer
			if err := JSON(&js, &v); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(js.Bytes(), in) {
				t.Errorf("the JSON renderer does not give the fixture back:\n%s", js.Bytes())
			}
			if err := CompareTable(&table, v.Report); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, name+".txt", table.Bytes())
		})
	}
}
