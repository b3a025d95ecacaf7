package kstruct

import (
	"fmt"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// CType writes t the way a C declaration names it without a declarator:
// "struct nsproxy *", "const char *", "char[16]", "void (*)(struct rcu_head *)".
// Integer names are BTF's (taken from DWARF): "long unsigned int", as
// pahole prints them.
func CType(t btf.Type) string { return ctype(t, 0) }

// maxDepth bounds recursion through pointers to function prototypes whose
// parameters point back at each other; a real C type is never that deep.
const maxDepth = 16

func ctype(t btf.Type, depth int) string {
	if depth > maxDepth {
		return "..."
	}
	switch v := t.(type) {
	case nil, *btf.Void:
		return "void"
	case *btf.Int:
		return v.Name
	case *btf.Float:
		return v.Name
	case *btf.Typedef:
		return v.Name
	case *btf.Struct:
		return tagged("struct", v.Name)
	case *btf.Union:
		return tagged("union", v.Name)
	case *btf.Enum:
		return tagged("enum", v.Name)
	case *btf.Fwd:
		kind := "struct"
		if v.Kind == btf.FwdUnion {
			kind = "union"
		}
		return tagged(kind, v.Name)
	case *btf.Const:
		return qualify("const", v.Type, depth)
	case *btf.Volatile:
		return qualify("volatile", v.Type, depth)
	case *btf.Restrict:
		return ctype(v.Type, depth+1) + " restrict"
	case *btf.TypeTag:
		return ctype(v.Type, depth+1)
	case *btf.Pointer:
		if fp, ok := v.Target.(*btf.FuncProto); ok {
			return funcType(fp, "(*)", depth)
		}
		inner := ctype(v.Target, depth+1)
		if strings.HasSuffix(inner, "*") {
			return inner + "*"
		}
		return inner + " *"
	case *btf.Array:
		return ctype(v.Type, depth+1) + fmt.Sprintf("[%d]", v.Nelems)
	case *btf.FuncProto:
		return funcType(v, "", depth)
	}
	return fmt.Sprintf("%T", t)
}

func tagged(kind, name string) string {
	if name == "" {
		return kind + " {...}"
	}
	return kind + " " + name
}

// qualify puts a qualifier where C puts it: before a plain type
// ("const char"), after the star of a pointer ("char * const").
func qualify(q string, t btf.Type, depth int) string {
	if _, ok := t.(*btf.Pointer); ok {
		return ctype(t, depth+1) + " " + q
	}
	return q + " " + ctype(t, depth+1)
}

func funcType(fp *btf.FuncProto, declarator string, depth int) string {
	params := make([]string, 0, len(fp.Params))
	for _, p := range fp.Params {
		params = append(params, ctype(p.Type, depth+1))
	}
	if len(params) == 0 {
		params = append(params, "void")
	} else if _, variadic := fp.Params[len(fp.Params)-1].Type.(*btf.Void); variadic {
		// BTF marks "..." as a last parameter of type void.
		params[len(params)-1] = "..."
	}
	return fmt.Sprintf("%s %s(%s)", ctype(fp.Return, depth+1), declarator, strings.Join(params, ", "))
}
