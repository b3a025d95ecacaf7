package bpfiter

import (
	"slices"
	"testing"
	"unsafe"

	"github.com/nsinspect/nsinspect/internal/taskobj"
	"github.com/nsinspect/nsinspect/namespaces"
)

// These run without privilege: they feed decode and label records made
// here, as the programs would write them.

// The states as the kernel stores them (include/linux/sched.h) and the
// letter fs/proc/array.c prints for each (__task_state_index).
func TestStateLetter(t *testing.T) {
	for _, c := range []struct {
		state, exit uint32
		want        byte
	}{
		{0x0000, 0, 'R'},    // TASK_RUNNING
		{0x0001, 0, 'S'},    // TASK_INTERRUPTIBLE
		{0x0002, 0, 'D'},    // TASK_UNINTERRUPTIBLE
		{0x0102, 0, 'D'},    // TASK_KILLABLE
		{0x0402, 0, 'I'},    // TASK_IDLE
		{0x2402, 0, 'I'},    // TASK_IDLE | TASK_FREEZABLE
		{0x2001, 0, 'S'},    // TASK_INTERRUPTIBLE | TASK_FREEZABLE
		{0x0004, 0, 'T'},    // __TASK_STOPPED
		{0x0104, 0, 'T'},    // TASK_STOPPED
		{0x0008, 0, 't'},    // TASK_TRACED
		{0x0040, 0, 'P'},    // TASK_PARKED
		{0x0080, 0x20, 'Z'}, // TASK_DEAD, EXIT_ZOMBIE
		{0x0000, 0x20, 'Z'}, // EXIT_ZOMBIE
		{0x0080, 0x10, 'X'}, // TASK_DEAD, EXIT_DEAD
		{0x1000, 0, 'D'},    // TASK_RTLOCK_WAIT
		{0x8000, 0, 'D'},    // TASK_FROZEN
		{0x0800, 0, 'R'},    // TASK_NEW
		{0x0200, 0, 'R'},    // TASK_WAKING
	} {
		if got := stateLetter(c.state, c.exit); got != c.want {
			t.Errorf("stateLetter(%#x, %#x) = %q, want %q", c.state, c.exit, got, c.want)
		}
	}
}

// rec returns the bytes of a record struct, as the iterator writes it.
func rec[T any](r *T) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(r)), unsafe.Sizeof(*r))
}

func validTask() []byte {
	r := tasksNsiTask{Kind: recTask, Tgid: 42, Tid: 43, Ppid: 1, State: 1}
	copy(r.Comm[:], []int8{'s', 'h'})
	r.NsInum[3], r.NsId[3] = 4026531833, 3
	r.Obj[taskobj.MM] = 0xfeed
	return rec(&r)
}

func validNS() []byte {
	return rec(&tasksNsiNs{Kind: recNS, Type: uint32(namespaces.Net), Inum: 4026531833, Owner: 4026531837, Id: 3})
}

func validFD() []byte {
	return rec(&tasksNsiFd{Kind: recFD, Tgid: 42, Tid: 42, Fd: 7, Type: uint32(namespaces.UTS), Inum: 4026531838})
}

func validWalk() []byte {
	r := fdwalkNsiWalk{Kind: recWalk, Fd: 3, I_ino: 99}
	copy(r.Name[:], []int8{'x'})
	return append(rec(&r), rec(&fdwalkNsiWalkend{Kind: recWalkEnd, Next: 4, MaxFds: 64})...)
}

func cat(bs ...[]byte) []byte { return slices.Concat(bs...) }

// Well-formed output decodes to what was written.
func TestDecode(t *testing.T) {
	s := &Snapshot{}
	if err := s.decode(cat(validNS(), validTask(), validFD(), validNS())); err != nil {
		t.Fatal(err)
	}
	if len(s.Tasks) != 1 || len(s.Namespaces) != 1 || len(s.FDs) != 1 {
		t.Fatalf("decoded %d tasks, %d namespaces, %d fds; want 1 each", len(s.Tasks), len(s.Namespaces), len(s.FDs))
	}
	task := s.Tasks[0]
	if task.TGID != 42 || task.TID != 43 || task.Comm != "sh" || task.State != 'S' || task.NS[3] != (NSRef{4026531833, 3}) || task.Obj[taskobj.MM] != 0xfeed {
		t.Errorf("task %+v", task)
	}
	if n := s.Namespaces[4026531833]; n.Type != namespaces.Net || n.Owner != 4026531837 || n.ID != 3 {
		t.Errorf("namespace %+v", n)
	}
	if fd := s.FDs[0]; fd.PID != 42 || fd.FD != 7 || fd.Type != namespaces.UTS || fd.NS.Ino != 4026531838 {
		t.Errorf("fd %+v", fd)
	}
	w := &Walk{}
	next, found, err := w.decode(validWalk())
	if err != nil || !found || next != 4 || w.MaxFDs != 64 || len(w.FDs) != 1 || w.FDs[0] != (WalkFD{FD: 3, Name: "x", Ino: 99}) {
		t.Errorf("walk: next %d found %v err %v, %+v", next, found, err, w)
	}
	// Decoding does not depend on where the buffer starts.
	odd := make([]byte, 1+len(validTask()))
	copy(odd[1:], validTask())
	if err := (&Snapshot{}).decode(odd[1:]); err != nil {
		t.Errorf("a record at an odd address: %v", err)
	}
}

// Truncated, unknown or misplaced records are errors, never a panic.
func TestDecodeRejectsBadInput(t *testing.T) {
	task := validTask()
	for name, buf := range map[string][]byte{
		"3 stray bytes":       {1, 0, 0},
		"7 stray bytes":       cat(validNS(), []byte{2, 0, 0, 0, 0, 0, 0}),
		"truncated task":      task[:len(task)-8],
		"kind 0":              make([]byte, 64),
		"kind 99":             cat([]byte{99, 0, 0, 0}, make([]byte, 60)),
		"walk in tasks":       cat(validTask(), validWalk()),
		"unknown ns type":     rec(&tasksNsiNs{Kind: recNS, Type: 0x7, Inum: 1}),
		"unknown fd type":     rec(&tasksNsiFd{Kind: recFD, Type: 0x1, Inum: 1}),
		"garbage after valid": cat(validFD(), []byte("garbage!")),
	} {
		if err := (&Snapshot{}).decode(buf); err == nil {
			t.Errorf("Snapshot.decode(%s): no error", name)
		}
	}
	walk := validWalk()
	for name, buf := range map[string][]byte{
		"3 stray bytes":  {4, 0, 0},
		"truncated walk": walk[:len(walk)-8],
		"task in walk":   cat(validTask(), validWalk()),
		"kind 0":         make([]byte, 16),
	} {
		if _, _, err := (&Walk{}).decode(buf); err == nil {
			t.Errorf("Walk.decode(%s): no error", name)
		}
	}
}

// Whatever the bytes, decoding returns (an error or records) and never
// panics; what it accepts is a whole number of 8-byte words.
func FuzzDecode(f *testing.F) {
	for _, b := range [][]byte{validTask(), validNS(), validFD(), validWalk(), cat(validNS(), validTask()), validTask()[:100], {1, 0, 0, 0}} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := (&Snapshot{}).decode(b); err == nil && len(b)%8 != 0 {
			t.Errorf("Snapshot.decode accepted %d bytes", len(b))
		}
		if _, _, err := (&Walk{}).decode(b); err == nil && len(b)%8 != 0 {
			t.Errorf("Walk.decode accepted %d bytes", len(b))
		}
	})
}

// label numbers each kind's hashes 1, 2, ... in the order met: equal
// hashes get equal labels, different ones different labels, 0 stays 0.
func TestLabel(t *testing.T) {
	s := &Snapshot{Tasks: make([]Task, 4)}
	set := func(ti int, o taskobj.Object, h uint64) { s.Tasks[ti].Obj[o] = h }
	set(0, taskobj.Files, 0xaaaa)
	set(1, taskobj.Files, 0xbbbb)
	set(2, taskobj.Files, 0xaaaa)
	set(3, taskobj.Files, 0)
	set(0, taskobj.MM, 0)
	set(1, taskobj.MM, 0xbbbb) // the same hash in another kind is another numbering
	set(2, taskobj.MM, 0xcccc)
	set(3, taskobj.MM, 0xbbbb)
	s.label()
	want := map[taskobj.Object][4]uint64{taskobj.Files: {1, 2, 1, 0}, taskobj.MM: {0, 1, 2, 1}, taskobj.IO: {0, 0, 0, 0}}
	for o, w := range want {
		for ti := range s.Tasks {
			if got := s.Tasks[ti].Obj[o]; got != w[ti] {
				t.Errorf("task %d %s: label %d, want %d", ti, o.Name(), got, w[ti])
			}
		}
	}
}
