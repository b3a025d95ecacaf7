package main

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/cilium/ebpf/btf"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: striplines OBJECT.o...: blanks the line info of BPF objects in place")
		os.Exit(2)
	}
	for _, path := range os.Args[1:] {
		if err := stripFile(path); err != nil {
			fmt.Fprintf(os.Stderr, "striplines: %s: %v\n", path, err)
			os.Exit(1)
		}
	}
}

func stripFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	before, err := typeNames(data)
	if err != nil {
		return err
	}
	if err := strip(data); err != nil {
		return err
	}
	// A string a type names too would be lost: the types must read the
	// same after as before.
	after, err := typeNames(data)
	if err != nil {
		return fmt.Errorf("after blanking: %w", err)
	}
	if !slices.Equal(before, after) {
		return errors.New("blanking the line strings changed the BTF types' names: not written")
	}
	return os.WriteFile(path, data, 0o644)
}

// typeNames are the names of every BTF type of the object data, in order,
// with their members', parameters' and values' names.
func typeNames(data []byte) ([]string, error) {
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("reading BTF: %w", err)
	}
	var names []string
	for typ, err := range spec.All() {
		if err != nil {
			return nil, err
		}
		names = append(names, fmt.Sprintf("%v", typ))
		switch t := typ.(type) {
		case *btf.Struct:
			for _, m := range t.Members {
				names = append(names, m.Name)
			}
		case *btf.Union:
			for _, m := range t.Members {
				names = append(names, m.Name)
			}
		case *btf.Enum:
			for _, v := range t.Values {
				names = append(names, v.Name)
			}
		case *btf.FuncProto:
			for _, p := range t.Params {
				names = append(names, p.Name)
			}
		}
	}
	return names, nil
}

// The headers of .BTF and .BTF.ext (linux/btf.h), as far as used here.
type btfHeader struct {
	Magic            uint16
	Version, Flags   uint8
	HdrLen           uint32
	TypeOff, TypeLen uint32
	StrOff, StrLen   uint32
}

type extHeader struct {
	Magic                    uint16
	Version, Flags           uint8
	HdrLen                   uint32
	FuncInfoOff, FuncInfoLen uint32
	LineInfoOff, LineInfoLen uint32
}

// funcStarts are, per section (by its name's offset in .BTF's strings),
// the instruction offsets where a function starts: the func_info
// subsection's records (struct bpf_func_info: insn_off, type_id).
func funcStarts(funcs []byte, bo binary.ByteOrder) (map[uint32]map[uint32]bool, error) {
	if len(funcs) < 4 {
		return nil, errors.New("no record size")
	}
	recSize := bo.Uint32(funcs)
	if recSize < 8 {
		return nil, fmt.Errorf("record size %d, want at least 8", recSize)
	}
	starts := map[uint32]map[uint32]bool{}
	for p := funcs[4:]; len(p) > 0; {
		if len(p) < 8 {
			return nil, errors.New("truncated section header")
		}
		sec, n := bo.Uint32(p), bo.Uint32(p[4:])
		p = p[8:]
		if uint64(len(p)) < uint64(n)*uint64(recSize) {
			return nil, errors.New("truncated records")
		}
		starts[sec] = map[uint32]bool{}
		for range n {
			starts[sec][bo.Uint32(p)] = true
			p = p[recSize:]
		}
	}
	return starts, nil
}

// lineRecord is struct bpf_line_info.
type lineRecord struct {
	InsnOff, FileNameOff, LineOff, LineCol uint32
}

// strip blanks, in the ELF object data, the line info records and the
// strings only they name.
func strip(data []byte) error {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return err
	}
	bo := f.ByteOrder
	btfSec, extSec := f.Section(".BTF"), f.Section(".BTF.ext")
	if btfSec == nil || extSec == nil {
		return errors.New("no .BTF or .BTF.ext section (built without -g?)")
	}
	var bh btfHeader
	var eh extHeader
	if _, err := binary.Decode(data[btfSec.Offset:], bo, &bh); err != nil {
		return fmt.Errorf(".BTF header: %w", err)
	}
	if _, err := binary.Decode(data[extSec.Offset:], bo, &eh); err != nil {
		return fmt.Errorf(".BTF.ext header: %w", err)
	}
	if bh.Magic != 0xeb9f || eh.Magic != 0xeb9f {
		return fmt.Errorf("BTF magic %#x and %#x, want 0xeb9f", bh.Magic, eh.Magic)
	}
	ext := data[extSec.Offset+uint64(eh.HdrLen):]
	lines := ext[eh.LineInfoOff:][:eh.LineInfoLen]
	strs := data[btfSec.Offset+uint64(bh.HdrLen)+uint64(bh.StrOff):][:bh.StrLen]
	starts, err := funcStarts(ext[eh.FuncInfoOff:][:eh.FuncInfoLen], bo)
	if err != nil {
		return fmt.Errorf("func info: %w", err)
	}
	recSize := bo.Uint32(lines)
	if recSize < 16 {
		return fmt.Errorf("line info record size %d, want at least 16", recSize)
	}
	// The records are rewritten in place, the kept ones first: out never
	// passes p.
	out := lines[4:]
	kept, dropped := map[uint32]bool{}, map[uint32]bool{}
	for p := lines[4:]; len(p) > 0; {
		if len(p) < 8 {
			return errors.New("truncated line info section header")
		}
		sec, n := bo.Uint32(p), bo.Uint32(p[4:])
		p = p[8:]
		if uint64(len(p)) < uint64(n)*uint64(recSize) {
			return errors.New("truncated line info records")
		}
		head := out
		out = out[8:]
		keep := uint32(0)
		for range n {
			var r lineRecord
			if _, err := binary.Decode(p, bo, &r); err != nil {
				return err
			}
			set := dropped
			if starts[sec][r.InsnOff] {
				set = kept
				copy(out, p[:recSize])
				out = out[recSize:]
				keep++
			}
			set[r.FileNameOff], set[r.LineOff] = true, true
			p = p[recSize:]
		}
		bo.PutUint32(head, sec)
		bo.PutUint32(head[4:], keep)
	}
	for off := range dropped {
		if kept[off] || off == 0 || off >= uint32(len(strs)) {
			continue
		}
		end := bytes.IndexByte(strs[off:], 0)
		if end < 0 {
			return fmt.Errorf("string at %d is not terminated", off)
		}
		clear(strs[off : off+uint32(end)])
	}
	clear(out)
	// line_info_len: what was kept.
	bo.PutUint32(data[extSec.Offset+20:], eh.LineInfoLen-uint32(len(out)))
	return nil
}
