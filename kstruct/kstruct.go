package kstruct

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// KernelBTF is where the running kernel exposes its BTF.
const KernelBTF = "/sys/kernel/btf/vmlinux"

// Spec is one loaded BTF blob.
type Spec struct {
	Path  string // the file it was read from
	spec  *btf.Spec
	names []string // struct and union names, filled on first need
}

// ErrNoBTF is returned when a file holds no BTF nsinspect can read.
var ErrNoBTF = errors.New("no readable BTF")

// Load reads BTF from path: a raw BTF blob such as /sys/kernel/btf/vmlinux,
// or an ELF file (vmlinux) with a .BTF section. An empty path means the
// running kernel's. The error wraps the cause (os.ErrNotExist,
// os.ErrPermission) and ErrNoBTF when the file is not BTF.
func Load(path string) (*Spec, error) {
	if path == "" {
		path = KernelBTF
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return LoadReader(f, path)
}

// LoadReader reads BTF like Load from r; name is used in errors.
func LoadReader(r io.ReaderAt, name string) (*Spec, error) {
	s, err := btf.LoadSpecFromReader(r)
	if err != nil {
		return nil, fmt.Errorf("%w in %s: %v", ErrNoBTF, name, err)
	}
	return &Spec{Path: name, spec: s}, nil
}

// Layout is a struct or union and its members.
type Layout struct {
	Name    string   `json:"name"`
	Kind    string   `json:"kind"` // "struct" or "union"
	Size    uint32   `json:"size"` // bytes, sizeof
	Members []Member `json:"members"`
}

// Member is one member. Offset is in bytes from the start of the outermost
// struct. For a bitfield, Offset and Size name its storage unit (the
// declared type's size, aligned to it) and BitOffset is the bit position
// inside that unit, as pahole prints "offset:bit".
type Member struct {
	Name      string   `json:"name"` // empty for an anonymous struct or union
	Type      string   `json:"type"` // as C writes it: "struct nsproxy *", "char[16]"
	Offset    uint32   `json:"offset"`
	Size      uint32   `json:"size"`
	BitOffset *uint32  `json:"bit_offset,omitempty"`
	BitSize   *uint32  `json:"bit_size,omitempty"`
	Members   []Member `json:"members,omitempty"` // expanded struct or union type
}

// AnonymousOnly is the depth that expands every anonymous struct and union
// and no named one: what pahole -C shows.
const AnonymousOnly = -1

// NotFoundError says that no struct or union has the name, with the
// closest names that exist.
type NotFoundError struct {
	Name    string
	Closest []string
}

func (e *NotFoundError) Error() string {
	if len(e.Closest) == 0 {
		return fmt.Sprintf("no struct or union %q in the BTF", e.Name)
	}
	return fmt.Sprintf("no struct or union %q in the BTF; closest: %s", e.Name, strings.Join(e.Closest, ", "))
}

// Layout returns the layout of the struct or union called name ("nsproxy",
// "struct nsproxy" or "union ..."). depth is how many levels of members of
// struct or union type are expanded, named types included; AnonymousOnly
// expands only anonymous ones, at any depth.
func (s *Spec) Layout(name string, depth int) (*Layout, error) {
	want := ""
	bare := strings.TrimSpace(name)
	for _, k := range []string{"struct", "union"} {
		if rest, ok := strings.CutPrefix(bare, k+" "); ok {
			want, bare = k, strings.TrimSpace(rest)
		}
	}
	types, err := s.spec.AnyTypesByName(bare)
	if err != nil && !errors.Is(err, btf.ErrNotFound) {
		return nil, fmt.Errorf("looking up %q in %s: %w", name, s.Path, err)
	}
	for _, t := range types {
		kind, size, members, ok := composite(t)
		if !ok || (want != "" && kind != want) {
			continue
		}
		return &Layout{Name: bare, Kind: kind, Size: size, Members: expand(members, 0, depth, 0)}, nil
	}
	return nil, &NotFoundError{Name: name, Closest: s.closest(bare, 8)}
}

// composite reports t's kind, size and members if t is a struct or union.
func composite(t btf.Type) (kind string, size uint32, members []btf.Member, ok bool) {
	switch c := t.(type) {
	case *btf.Struct:
		return "struct", c.Size, c.Members, true
	case *btf.Union:
		return "union", c.Size, c.Members, true
	}
	return "", 0, nil, false
}

// expand lays out members of an aggregate that starts base bytes into the
// outermost struct, level levels deep.
func expand(ms []btf.Member, base uint32, depth, level int) []Member {
	out := make([]Member, 0, len(ms))
	for _, m := range ms {
		size := sizeof(m.Type)
		out1 := Member{Name: m.Name, Type: CType(m.Type)}
		if m.BitfieldSize > 0 {
			// pahole's convention: the storage unit is the declared
			// type's size, aligned to that size.
			unit := size * 8
			if unit == 0 {
				unit = 8
			}
			start := uint32(m.Offset) / unit * unit
			bit, width := uint32(m.Offset)-start, uint32(m.BitfieldSize)
			out1.Offset = base + start/8
			out1.BitOffset, out1.BitSize = &bit, &width
		} else {
			out1.Offset = base + uint32(m.Offset)/8
		}
		out1.Size = size
		if inner, ok := expandable(m.Type, depth, level); ok {
			out1.Members = expand(inner, out1.Offset, depth, level+1)
		}
		out = append(out, out1)
	}
	return out
}

// expandable returns the members of t when it is to be expanded at level.
func expandable(t btf.Type, depth, level int) ([]btf.Member, bool) {
	if _, _, ms, ok := composite(t); ok && t.TypeName() == "" && (depth == AnonymousOnly || level < depth) {
		return ms, true
	}
	if depth == AnonymousOnly || level >= depth {
		return nil, false
	}
	_, _, ms, ok := composite(btf.UnderlyingType(t))
	return ms, ok
}

func sizeof(t btf.Type) uint32 {
	n, err := btf.Sizeof(t)
	if err != nil || n < 0 {
		return 0 // a flexible array member, or a void member BTF cannot size
	}
	return uint32(n)
}
