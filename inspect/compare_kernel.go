package inspect

import (
	"github.com/nsinspect/nsinspect/bpfiter"
	"github.com/nsinspect/nsinspect/internal/taskobj"
	"github.com/nsinspect/nsinspect/procinfo"
	"github.com/nsinspect/nsinspect/schema"
	"github.com/nsinspect/nsinspect/sharing"
)

// compare --kernel: the task_struct pointers themselves, read by one BPF
// snapshot, as a third witness beside kcmp(2) for the six resources kcmp
// compares.

// kernelObjects maps kcmp's resource names to the object BPF reads: the
// object of the same name, but for kcmp's "vm", which is task->mm.
func kernelObjects() map[string]taskobj.Object {
	m := map[string]taskobj.Object{}
	for _, o := range taskobj.All() {
		if o == taskobj.MM {
			m["vm"] = o
		} else {
			m[o.Name()] = o
		}
	}
	return m
}

// Compare is `compare --json`, with the witness under "kernel" when
// asked for.
type Compare struct {
	SchemaVersion schema.Version `json:"schema_version"`
	*sharing.Report
	Kernel *CompareKernel `json:"kernel,omitempty"`
}

type CompareKernel struct {
	Source    string          `json:"source"` // "bpf"
	Note      string          `json:"note"`
	Resources []KernelVerdict `json:"resources"`
}

// KernelVerdict is one resource as BPF saw it.
type KernelVerdict struct {
	Name  string `json:"name"`  // kcmp's name: files fs vm sighand io sysvsem
	Field string `json:"field"` // "task->mm"
	A     uint64 `json:"a"`     // the id in this run, 0 for NULL
	B     uint64 `json:"b"`
	// Same is true when both point to one object, false when they point
	// to different ones or one is NULL, null when both are NULL (as kcmp
	// says "?" then: nothing is shared or separate).
	Same *bool `json:"same"`
	Kcmp *bool `json:"kcmp"` // kcmp's verdict, as in "resources"
	// Agrees compares Same with kcmp's verdict; null when either is
	// indeterminate. The two are read one after the other: a task that
	// unshares or exits in between can make them differ.
	Agrees *bool `json:"agrees_with_kcmp"`
}

// kernelWitness reads a and b in one snapshot and sets each verdict
// beside kcmp's in r.
func kernelWitness(r *sharing.Report, a, b *procinfo.Proc) (*CompareKernel, error) {
	_, ts, err := KernelTasks(a, b)
	if err != nil {
		return nil, err
	}
	return Witness(r, ts[0], ts[1]), nil
}

// Witness compares a's and b's pointers, read in one snapshot, and sets
// each verdict beside kcmp's in r.
func Witness(r *sharing.Report, a, b *bpfiter.Task) *CompareKernel {
	kcmp := map[string]*bool{}
	for _, res := range r.Resources {
		kcmp[res.Name] = res.Shared
	}
	out := &CompareKernel{Source: "bpf", Note: KernelNote}
	objs := kernelObjects()
	for _, name := range sharing.KcmpNames() {
		obj := objs[name]
		v := KernelVerdict{Name: name, Field: obj.Field(), A: a.Obj[obj], B: b.Obj[obj], Kcmp: kcmp[name]}
		if v.A != 0 || v.B != 0 {
			same := v.A == v.B
			v.Same = &same
		}
		if v.Kcmp != nil && v.Same != nil {
			agrees := *v.Kcmp == *v.Same
			v.Agrees = &agrees
		}
		out.Resources = append(out.Resources, v)
	}
	return out
}
