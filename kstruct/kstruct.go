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
	Path string // the file it was read from
	// CachelineSize is the cache line in bytes that Layout counts in;
	// 0 means the machine's (MachineCachelineSize), as pahole's default.
	CachelineSize uint32

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

// Layout is a struct or union and its members, with what pahole(1)
// counts in it: holes, padding and cache lines. Sizes and offsets are in
// bytes; the fields named bit_* or *_bit_* and sum_bitfield_members are in
// bits. The holes and padding of a union are all 0, as pahole finds none.
type Layout struct {
	Name    string   `json:"name"`
	Kind    string   `json:"kind"` // "struct" or "union"
	Size    uint32   `json:"size"` // bytes, sizeof
	Members []Member `json:"members"`

	CachelineSize uint32 `json:"cacheline_size"` // bytes, the line the next two count in
	Cachelines    uint32 `json:"cachelines"`     // lines of Size bytes from a line boundary
	LastCacheline uint32 `json:"last_cacheline"` // bytes in the last line; 0 when full

	SumMembers         uint32 `json:"sum_members"`          // bytes of the members that are not bitfields
	SumBitfieldMembers uint32 `json:"sum_bitfield_members"` // bits of the bitfields
	Holes              uint32 `json:"holes"`                // byte holes, pre_hole included
	SumHoles           uint32 `json:"sum_holes"`
	BitHoles           uint32 `json:"bit_holes"` // bit holes, pre_bit_hole included
	SumBitHoles        uint32 `json:"sum_bit_holes"`
	PreHole            uint32 `json:"pre_hole,omitempty"` // before the first member
	PreBitHole         uint32 `json:"pre_bit_hole,omitempty"`
	Padding            uint32 `json:"padding"`     // bytes after the last member, to Size
	BitPadding         uint32 `json:"bit_padding"` // bits after a last bitfield, in its storage unit
	Paddings           uint32 `json:"paddings"`    // members whose struct type ends in padding
	SumPaddings        uint32 `json:"sum_paddings"`
}

// Member is one member. Offset is in bytes from the start of the outermost
// struct. For a bitfield, Offset and Size name its storage unit (the
// declared type's size, aligned to it) and BitOffset is the bit position
// inside that unit, as pahole prints "offset:bit".
//
// Hole and BitHole are the gap after the member, before the next one of
// the same struct, as pahole prints them after it. Padding is, for a
// member of a struct whose type is a struct, the padding at the end of
// that type (pahole's "XXX last struct has N bytes of padding").
// Cacheline is set on the member before which pahole prints "---
// cacheline N boundary ---": the first, in print order, to start in line
// N or after it; a union's members each start again from the line its
// first member saw.
type Member struct {
	Name       string   `json:"name"` // empty for an anonymous struct or union
	Type       string   `json:"type"` // as C writes it: "struct nsproxy *", "char[16]"
	Offset     uint32   `json:"offset"`
	Size       uint32   `json:"size"`
	BitOffset  *uint32  `json:"bit_offset,omitempty"`
	BitSize    *uint32  `json:"bit_size,omitempty"`
	Hole       uint32   `json:"hole,omitempty"`
	BitHole    uint32   `json:"bit_hole,omitempty"`
	Padding    uint32   `json:"padding,omitempty"`
	Cacheline  uint32   `json:"cacheline,omitempty"`
	Members    []Member `json:"members,omitempty"`  // expanded struct or union type
	PreHole    uint32   `json:"pre_hole,omitempty"` // of an expanded struct, before its first member
	PreBitHole uint32   `json:"pre_bit_hole,omitempty"`
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
// expands only anonymous ones, at any depth. Cache lines are counted in
// s.CachelineSize bytes, or the machine's when it is 0.
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
	line := s.CachelineSize
	if line == 0 {
		line = MachineCachelineSize()
	}
	for _, t := range types {
		if kind, _, _, ok := composite(t); ok && (want == "" || kind == want) {
			return layoutOf(t, depth, line), nil
		}
	}
	return nil, &NotFoundError{Name: name, Closest: s.closest(bare, 8)}
}

// layoutOf lays out the struct or union t with cache lines of line bytes.
func layoutOf(t btf.Type, depth int, line uint32) *Layout {
	kind, size, _, _ := composite(t)
	w := walker{depth: depth, line: line}
	ms, g := w.expand(t, 0, 0)
	l := &Layout{
		Name: t.TypeName(), Kind: kind, Size: size, Members: ms,
		CachelineSize: line, Cachelines: (size + line - 1) / line, LastCacheline: size % line,
		Holes: g.nrHoles, SumHoles: g.sumHoles, BitHoles: g.nrBitHoles, SumBitHoles: g.sumBitHoles,
		PreHole: g.preHole, PreBitHole: g.preBitHole, Padding: g.padding, BitPadding: g.bitPadding,
	}
	for _, m := range ms {
		if m.BitSize != nil {
			l.SumBitfieldMembers += *m.BitSize
		} else {
			l.SumMembers += m.Size
		}
		if m.Padding > 0 {
			l.Paddings++
			l.SumPaddings += m.Padding
		}
	}
	return l
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

// walker expands members in the order pahole prints them, marking cache
// line boundaries as it goes.
type walker struct {
	depth int    // levels to expand, or AnonymousOnly
	line  uint32 // cache line size
	seen  uint32 // the last cache line marked
}

// expand lays out the members of the struct or union t that starts base
// bytes into the outermost struct, level levels deep, and returns them
// with the gaps between them (none in a union).
func (w *walker) expand(t btf.Type, base uint32, level int) ([]Member, gaps) {
	kind, size, ms, _ := composite(t)
	slots := make([]slot, len(ms))
	out := make([]Member, len(ms))
	unionLine := w.seen
	for i, m := range ms {
		s := slotOf(m)
		slots[i] = s
		out1 := Member{Name: m.Name, Type: CType(m.Type), Offset: base + s.byteOffset, Size: s.byteSize}
		if s.bitfieldSize > 0 {
			bit, width := s.bitOffset-s.byteOffset*8, s.bitfieldSize
			out1.BitOffset, out1.BitSize = &bit, &width
		}
		if l := out1.Offset / w.line; l > w.seen {
			out1.Cacheline, w.seen = l, l
		}
		if inner, ok := w.expandable(m.Type, level); ok {
			var g gaps
			out1.Members, g = w.expand(inner, out1.Offset, level+1)
			out1.PreHole, out1.PreBitHole = g.preHole, g.preBitHole
		}
		// pahole looks at the member's type as declared (a typedef of
		// a struct is not a struct there), and only in a struct.
		if st, ok := m.Type.(*btf.Struct); ok && kind == "struct" {
			out1.Padding = structPadding(st)
		}
		out[i] = out1
		if kind == "union" {
			// each member of a union starts from the same line
			w.seen = unionLine
		}
	}
	if kind != "struct" {
		return out, gaps{}
	}
	g := findHoles(slots, size)
	for i := range out {
		out[i].Hole, out[i].BitHole = g.hole[i], g.bitHole[i]
	}
	return out, g
}

// expandable returns the struct or union type of a member of type t when
// it is to be expanded at level.
func (w *walker) expandable(t btf.Type, level int) (btf.Type, bool) {
	if _, _, _, ok := composite(t); ok && t.TypeName() == "" && (w.depth == AnonymousOnly || level < w.depth) {
		return t, true
	}
	if w.depth == AnonymousOnly || level >= w.depth {
		return nil, false
	}
	u := btf.UnderlyingType(t)
	_, _, _, ok := composite(u)
	return u, ok
}

func sizeof(t btf.Type) uint32 {
	n, err := btf.Sizeof(t)
	if err != nil || n < 0 {
		return 0 // a flexible array member, or a void member BTF cannot size
	}
	return uint32(n)
}
