package kstruct

import "fmt"

// The comments pahole(1) prints in a struct (dwarves_fprintf.c, v1.24), in
// its words, so that a reader who knows pahole's output finds the same
// lines.

// Comments are pahole's comments around one member.
type Comments struct {
	Before []string // a cache line boundary
	First  []string // inside an expanded struct, before its first member: its pre-holes
	After  []string // its struct type's padding, then the bit and byte holes after it
}

// Comments returns pahole's comments around m, a member of l.
func (l *Layout) Comments(m *Member) Comments {
	var c Comments
	if m.Cacheline > 0 {
		c.Before = append(c.Before, l.boundary(m))
	}
	c.First = holeComments(m.PreHole, m.PreBitHole)
	if m.Padding > 0 {
		c.After = append(c.After, fmt.Sprintf("/* XXX last struct has %d byte%s of padding */", m.Padding, plural(m.Padding)))
	}
	c.After = append(c.After, holeComments(m.Hole, m.BitHole)...)
	return c
}

// Leading returns pahole's comments before l's first member: its holes.
func (l *Layout) Leading() []string { return holeComments(l.PreHole, l.PreBitHole) }

func (l *Layout) boundary(m *Member) string {
	at := m.Cacheline * l.CachelineSize
	if ago := m.Offset - at; ago > 0 {
		return fmt.Sprintf("/* --- cacheline %d boundary (%d bytes) was %d byte%s ago --- */", m.Cacheline, at, ago, plural(ago))
	}
	return fmt.Sprintf("/* --- cacheline %d boundary (%d bytes) --- */", m.Cacheline, at)
}

// holeComments are a hole's comments in pahole's order: bits, then bytes.
func holeComments(bytes, bits uint32) []string {
	var out []string
	if bits > 0 {
		out = append(out, fmt.Sprintf("/* XXX %d bit%s hole, try to pack */", bits, plural(bits)))
	}
	if bytes > 0 {
		out = append(out, fmt.Sprintf("/* XXX %d byte%s hole, try to pack */", bytes, plural(bytes)))
	}
	return out
}

// Summary returns the lines pahole prints at the end of a struct, with
// its conditions: the sums only when there is a hole, the rest when not 0.
// pahole's "forced alignments" line, which it infers from offsets that
// BTF does not explain, is not among them. A union has the first line only
// (pahole prints none for it).
func (l *Layout) Summary() []string {
	out := []string{fmt.Sprintf("/* size: %d, cachelines: %d, members: %d */", l.Size, l.Cachelines, len(l.Members))}
	if l.Kind != "struct" {
		return out
	}
	if l.SumHoles > 0 || l.SumBitHoles > 0 {
		if l.SumMembers > 0 {
			s := fmt.Sprintf("/* sum members: %d", l.SumMembers)
			if l.SumHoles > 0 {
				s += fmt.Sprintf(", holes: %d, sum holes: %d", l.Holes, l.SumHoles)
			}
			out = append(out, s+" */")
		}
		if l.SumBitfieldMembers > 0 {
			s := fmt.Sprintf("/* sum bitfield members: %d bits", l.SumBitfieldMembers)
			if l.SumBitHoles > 0 {
				s += fmt.Sprintf(", bit holes: %d, sum bit holes: %d bits", l.BitHoles, l.SumBitHoles)
			} else {
				s += fmt.Sprintf(" (%d bytes)", l.SumBitfieldMembers/8)
			}
			out = append(out, s+" */")
		}
	}
	if l.Padding > 0 {
		out = append(out, fmt.Sprintf("/* padding: %d */", l.Padding))
	}
	if l.Paddings > 0 {
		out = append(out, fmt.Sprintf("/* paddings: %d, sum paddings: %d */", l.Paddings, l.SumPaddings))
	}
	if l.BitPadding > 0 {
		out = append(out, fmt.Sprintf("/* bit_padding: %d bits */", l.BitPadding))
	}
	if l.LastCacheline > 0 {
		out = append(out, fmt.Sprintf("/* last cacheline: %d bytes */", l.LastCacheline))
	}
	return out
}

// plural is pahole's: "1 byte", "2 bytes", "0 bytes".
func plural(n uint32) string {
	if n == 1 {
		return ""
	}
	return "s"
}
