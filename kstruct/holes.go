package kstruct

import "github.com/cilium/ebpf/btf"

// slot is one member of a struct as pahole's hole finder sees it.
type slot struct {
	bitOffset    uint32 // from the start of the struct, as BTF gives it
	byteOffset   uint32 // of the storage unit, for a bitfield
	byteSize     uint32 // the declared type's size
	bitfieldSize uint32 // 0 if not a bitfield
}

// slotOf places m as pahole's BTF loader does (btf_loader.c,
// class__fixup_btf_bitfields): a bitfield's storage unit is its declared
// type's size, aligned to that size.
func slotOf(m btf.Member) slot {
	s := slot{bitOffset: uint32(m.Offset), byteSize: sizeof(m.Type), bitfieldSize: uint32(m.BitfieldSize)}
	s.byteOffset = s.bitOffset / 8
	if s.bitfieldSize > 0 && s.byteSize > 0 {
		unit := s.byteSize * 8
		s.byteOffset = s.bitOffset / unit * unit / 8
	}
	return s
}

// gaps is what pahole finds between the members of one struct: the byte
// and bit holes after each member, the holes before the first, and the
// padding after the last.
type gaps struct {
	hole, bitHole         []uint32 // after member i
	preHole, preBitHole   uint32
	padding, bitPadding   uint32
	nrHoles, nrBitHoles   uint32
	sumHoles, sumBitHoles uint32
}

// findHoles is pahole's class__find_holes (dwarves.c, v1.24) over the
// members of a struct of size bytes. A member that overlaps the one
// before it (only a damaged BTF has one) leaves no hole, where pahole
// would print a negative one.
//
// Bits left over in a bitfield's storage unit before the next member are a
// bit hole, whole bytes between members a byte hole: in
//
//	struct { char x; unsigned int a:4; long c; }
//
// a shares x's unsigned int (bits 8-11), and is followed by a 20-bit hole
// (to the end of that int) and a 4-byte hole (to c at 8).
func findHoles(ss []slot, size uint32) gaps {
	g := gaps{hole: make([]uint32, len(ss)), bitHole: make([]uint32, len(ss))}
	curBitfieldEnd, curBitfieldSize := size*8, uint32(0)
	var lastSeen uint32
	inBitfield := false
	for i, s := range ss {
		bitStart := s.bitOffset
		bitEnd := bitStart + s.byteSize*8
		if s.bitfieldSize > 0 {
			bitEnd = bitStart + s.bitfieldSize
		}
		var bitHoles, byteHoles int64
		if inBitfield {
			// the bits left in the last bitfield's storage unit
			end := min(bitStart, curBitfieldEnd)
			bitHoles = int64(end) - int64(lastSeen)
			lastSeen = end
		}
		if s.bitfieldSize > 0 {
			aligned := s.byteOffset * 8
			if lastSeen < aligned && aligned <= bitStart {
				byteHoles = int64(s.byteOffset) - int64(lastSeen/8)
				lastSeen = aligned
			}
			bitHoles += int64(bitStart) - int64(lastSeen)
		} else {
			byteHoles = int64(bitStart/8) - int64(lastSeen/8)
		}
		lastSeen = bitEnd

		if s.bitfieldSize > 0 {
			inBitfield = true
			if unit := s.byteSize * 8; bitEnd > curBitfieldEnd || unit > curBitfieldSize {
				curBitfieldSize = unit
				curBitfieldEnd = s.byteOffset*8 + unit
				// a bitfield that borrowed bits from the previous
				// unit ends in the next one
				if bitEnd > curBitfieldEnd {
					curBitfieldEnd += unit
				}
			}
		} else {
			inBitfield, curBitfieldSize, curBitfieldEnd = false, 0, bitEnd
		}

		bh, h := nonNegative(bitHoles), nonNegative(byteHoles)
		if i > 0 {
			g.hole[i-1], g.bitHole[i-1] = h, bh
		} else {
			g.preHole, g.preBitHole = h, bh
		}
		if bh > 0 {
			g.nrBitHoles++
			g.sumBitHoles += bh
		}
		if h > 0 {
			g.nrHoles++
			g.sumHoles += h
		}
	}
	if inBitfield {
		end := min(size*8, curBitfieldEnd)
		g.bitPadding = uint32(nonNegative(int64(end) - int64(lastSeen)))
		lastSeen = end
	}
	g.padding = nonNegative(int64(size) - int64(lastSeen/8))
	return g
}

func nonNegative(n int64) uint32 {
	if n < 0 {
		return 0
	}
	return uint32(n)
}

// structPadding is the padding at the end of s, which pahole prints after
// a member of type s as "XXX last struct has N bytes of padding".
func structPadding(s *btf.Struct) uint32 {
	ss := make([]slot, len(s.Members))
	for i, m := range s.Members {
		ss[i] = slotOf(m)
	}
	return findHoles(ss, s.Size).padding
}
