package render

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/internal/golden"
	"github.com/nsinspect/nsinspect/kstruct"
)

// TestGoldenStruct renders structs of kstruct's testdata/holes.c, whose
// BTF kstruct's tests check against pahole: bit holes around a forced
// storage unit, a hole before the first member with bit padding, a
// member's struct padding, and cache line boundaries inside each member
// of a union, in text and JSON.
func TestGoldenStruct(t *testing.T) {
	spec, err := kstruct.Load(filepath.Join("..", "kstruct", "testdata", "holes.btf"))
	if err != nil {
		t.Fatal(err)
	}
	spec.CachelineSize = 64
	var text bytes.Buffer
	for _, name := range []string{"forced_unit", "leading_bits", "holds_padded", "union_crossing"} {
		l, err := spec.Layout(name, kstruct.AnonymousOnly)
		if err != nil {
			t.Fatal(err)
		}
		if err := Struct(&text, inspect.Struct{Layout: l, From: "holes.btf"}); err != nil {
			t.Fatal(err)
		}
	}
	golden.Check(t, "struct.txt", text.Bytes())
	l, err := spec.Layout("union_crossing", kstruct.AnonymousOnly)
	if err != nil {
		t.Fatal(err)
	}
	var js bytes.Buffer
	if err := JSON(&js, inspect.Struct{Layout: l}); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "struct.json", js.Bytes())
}
