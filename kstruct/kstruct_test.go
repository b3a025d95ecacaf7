package kstruct

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/cilium/ebpf/btf"
)

func TestCType(t *testing.T) {
	u32 := &btf.Int{Name: "unsigned int", Size: 4}
	char := &btf.Int{Name: "char", Size: 1, Encoding: btf.Signed}
	rcu := &btf.Struct{Name: "rcu_head", Size: 16}
	for _, tc := range []struct {
		typ  btf.Type
		want string
	}{
		{u32, "unsigned int"},
		{&btf.Pointer{Target: &btf.Struct{Name: "nsproxy"}}, "struct nsproxy *"},
		{&btf.Pointer{Target: &btf.Pointer{Target: char}}, "char **"},
		{&btf.Pointer{Target: &btf.Const{Type: char}}, "const char *"},
		{&btf.Const{Type: &btf.Pointer{Target: char}}, "char * const"},
		{&btf.Array{Type: char, Nelems: 16}, "char[16]"},
		{&btf.Array{Type: &btf.Pointer{Target: &btf.Struct{Name: "file"}}, Nelems: 0}, "struct file *[0]"},
		{&btf.Pointer{Target: &btf.FuncProto{Return: &btf.Void{}, Params: []btf.FuncParam{{Type: &btf.Pointer{Target: rcu}}}}}, "void (*)(struct rcu_head *)"},
		{&btf.Pointer{Target: &btf.FuncProto{Return: u32}}, "unsigned int (*)(void)"},
		{&btf.Union{Size: 8}, "union {...}"},
		{&btf.Fwd{Name: "sock", Kind: btf.FwdStruct}, "struct sock"},
		{&btf.Enum{Name: "pid_type", Size: 4}, "enum pid_type"},
		{&btf.Typedef{Name: "refcount_t", Type: &btf.Struct{Name: "refcount_struct"}}, "refcount_t"},
		{&btf.Volatile{Type: u32}, "volatile unsigned int"},
		{&btf.Pointer{Target: &btf.Void{}}, "void *"},
	} {
		if got := CType(tc.typ); got != tc.want {
			t.Errorf("CType(%v) = %q, want %q", tc.typ, got, tc.want)
		}
	}
}

func TestClosest(t *testing.T) {
	names := []string{"task_struct", "tss_struct", "nsproxy", "fs_struct", "files_struct", "thread_info", "thread_struct"}
	for _, tc := range []struct {
		in   string
		want string // the first suggestion
	}{
		{"task_strct", "task_struct"},
		{"NSPROXY", "nsproxy"},
		{"thread", "thread_info"},
		{"files", "files_struct"},
	} {
		got := Closest(tc.in, names, 3)
		if len(got) == 0 || got[0] != tc.want {
			t.Errorf("Closest(%q) = %v, want %q first", tc.in, got, tc.want)
		}
	}
	if got := Closest("zzzzzzzzzz", names, 3); len(got) != 0 {
		t.Errorf("Closest of a far name = %v, want none", got)
	}
}

func TestLayoutAndErrors(t *testing.T) {
	s := requireKernelBTF(t)
	l, err := s.Layout("struct nsproxy", AnonymousOnly)
	if err != nil {
		t.Fatal(err)
	}
	if l.Kind != "struct" || l.Members[0].Name != "count" {
		t.Errorf("nsproxy: kind %q, first member %q; want struct, count", l.Kind, l.Members[0].Name)
	}
	// Depth 1 expands a named member's struct: task_struct.thread_info.
	l, err = s.Layout("task_struct", 1)
	if err != nil {
		t.Fatal(err)
	}
	if ti := l.Members[0]; ti.Name != "thread_info" || len(ti.Members) == 0 {
		t.Errorf("task_struct at depth 1: first member %q has %d members, want thread_info expanded", ti.Name, len(ti.Members))
	}
	l, err = s.Layout("mm_struct", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range l.Members {
		if len(m.Members) != 0 {
			t.Errorf("depth 0 expanded %q", m.Name)
		}
	}
	_, err = s.Layout("task_strct", AnonymousOnly)
	var nf *NotFoundError
	if !errors.As(err, &nf) || len(nf.Closest) == 0 || nf.Closest[0] != "task_struct" {
		t.Errorf("unknown name: err %v, want NotFoundError suggesting task_struct first", err)
	}
	if _, err := s.Layout("union nsproxy", AnonymousOnly); !errors.As(err, &nf) {
		t.Errorf("union nsproxy: err %v, want NotFoundError (nsproxy is a struct)", err)
	}

	notBTF := filepath.Join(t.TempDir(), "notbtf")
	if err := os.WriteFile(notBTF, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(notBTF); !errors.Is(err, ErrNoBTF) {
		t.Errorf("Load(non-BTF file) = %v, want ErrNoBTF", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want os.ErrNotExist", err)
	}
}

// FuzzLoadReader feeds arbitrary bytes where --btf FILE goes: a damaged
// file must give an error, never a panic.
func FuzzLoadReader(f *testing.F) {
	if b, err := os.ReadFile(KernelBTF); err == nil {
		f.Add(b[:4096])
		f.Add(b[:24])
	}
	f.Add([]byte("\x9f\xeb\x01\x00\x18\x00\x00\x00"))
	f.Add([]byte("\x7fELF"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := LoadReader(bytes.NewReader(b), "fuzz")
		if err != nil {
			return
		}
		for _, n := range s.Names() {
			if _, err := s.Layout(n, 2); err != nil {
				t.Fatalf("Layout(%q) of a listed name: %v", n, err)
			}
		}
	})
}
