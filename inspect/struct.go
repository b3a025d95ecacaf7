package inspect

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/nsinspect/nsinspect/kstruct"
	"github.com/nsinspect/nsinspect/schema"
)

// Struct is `struct --json`: a kernel struct's layout, after the
// contract's version. From names the BTF it was read from (for the
// table's title; not in JSON).
type Struct struct {
	SchemaVersion schema.Version `json:"schema_version"`
	*kstruct.Layout
	From string `json:"-"`
}

// StructLayout is `struct NAME`: NAME's layout from the BTF at btfPath
// ("" for the running kernel's), members expanded depth levels
// (kstruct.AnonymousOnly: as pahole), cache lines of cacheline bytes (0:
// the machine's). An unknown NAME is bad input naming the closest.
func StructLayout(name, btfPath string, depth int, cacheline uint32) (Struct, error) {
	if depth < kstruct.AnonymousOnly {
		return Struct{}, BadInputf("bad --depth %d: want 0 or more levels, or -1 (the default) for anonymous structs and unions only", depth)
	}
	spec, err := loadBTF(btfPath)
	if err != nil {
		return Struct{}, err
	}
	spec.CachelineSize = cacheline
	l, err := spec.Layout(name, depth)
	if err != nil {
		var nf *kstruct.NotFoundError
		if errors.As(err, &nf) {
			msg := fmt.Sprintf("no struct or union %q in the BTF of %s", nf.Name, spec.Path)
			if len(nf.Closest) > 0 {
				msg += "; closest: " + strings.Join(nf.Closest, ", ")
			}
			return Struct{}, BadInputf("%s", msg)
		}
		return Struct{}, err
	}
	return Struct{Layout: l, From: spec.Path}, nil
}

// loadBTF classifies BTF loading failures: a bad --btf file is bad input;
// a kernel without BTF, or a file nsinspect may not read, is a missing
// feature or privilege.
func loadBTF(path string) (*kstruct.Spec, error) {
	spec, err := kstruct.Load(path)
	if err == nil {
		return spec, nil
	}
	switch {
	case path == "" && errors.Is(err, os.ErrNotExist):
		return nil, Privilegef("the running kernel exposes no BTF at %s (it needs CONFIG_DEBUG_INFO_BTF=y): pass --btf FILE with a vmlinux that carries BTF", kstruct.KernelBTF)
	case errors.Is(err, os.ErrPermission):
		return nil, Privilegef("cannot read BTF: %v: run as a user who may read it (root)", err)
	case errors.Is(err, os.ErrNotExist):
		return nil, BadInputf("cannot read --btf %s: no such file: give a raw BTF file such as %s or a vmlinux ELF with a .BTF section", path, kstruct.KernelBTF)
	case errors.Is(err, kstruct.ErrNoBTF) && path != "":
		return nil, BadInputf("--btf %s holds no BTF nsinspect can read (%v): give a raw BTF file such as %s or a vmlinux ELF with a .BTF section", path, err, kstruct.KernelBTF)
	}
	return nil, fmt.Errorf("reading BTF: %w", err)
}
