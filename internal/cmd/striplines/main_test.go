package main

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"testing"
)

// The committed objects are stripped already (striplines changes nothing
// in them), and each function of each keeps its line record at its first
// instruction, which the kernel requires.
func TestCommittedObjects(t *testing.T) {
	for _, path := range []string{"../../../tracer/trace_bpfel.o", "../../../bpfiter/tasks_bpfel.o", "../../../bpfiter/fdwalk_bpfel.o"} {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		again := bytes.Clone(data)
		if err := strip(again); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if !bytes.Equal(data, again) {
			t.Errorf("%s: striplines changes it: regenerate with go generate", path)
		}
		starts, lines := infos(t, data)
		nFuncs := 0
		for sec, offs := range starts {
			for off := range offs {
				nFuncs++
				if !lines[sec][off] {
					t.Errorf("%s: the function at instruction byte %d of section %d has no line record", path, off, sec)
				}
			}
		}
		t.Logf("%s: %d functions, each with its line record", path, nFuncs)
		if nFuncs == 0 {
			t.Errorf("%s: no function found", path)
		}
	}
}

// infos are an object's function starts and line records' instruction
// offsets, per section.
func infos(t *testing.T, data []byte) (starts, lines map[uint32]map[uint32]bool) {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	ext := f.Section(".BTF.ext")
	var eh extHeader
	if _, err := binary.Decode(data[ext.Offset:], f.ByteOrder, &eh); err != nil {
		t.Fatal(err)
	}
	body := data[ext.Offset+uint64(eh.HdrLen):]
	if starts, err = funcStarts(body[eh.FuncInfoOff:][:eh.FuncInfoLen], f.ByteOrder); err != nil {
		t.Fatal(err)
	}
	// Line records begin with insn_off, as func info records do.
	if lines, err = funcStarts(body[eh.LineInfoOff:][:eh.LineInfoLen], f.ByteOrder); err != nil {
		t.Fatal(err)
	}
	return starts, lines
}
