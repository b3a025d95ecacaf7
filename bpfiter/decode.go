package bpfiter

// Reading back what the programs wrote: records of bpf/nsi.h, whose Go
// types bpf2go generated from the same header.

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
	"unsafe"

	"github.com/nsinspect/nsinspect/internal/taskobj"
	"github.com/nsinspect/nsinspect/namespaces"
)

// decode reads the records of buf into s. Output that is not a whole
// series of nsi_task, nsi_ns and nsi_fd records is an error, never a
// panic.
func (s *Snapshot) decode(buf []byte) error {
	buf = aligned(buf)
	if s.Namespaces == nil {
		s.Namespaces = make(map[uint64]*Namespace, 256)
	}
	if s.Tasks == nil {
		// At most this many: one allocation instead of a doubling
		// series of 300-byte records.
		s.Tasks = make([]Task, 0, len(buf)/int(unsafe.Sizeof(tasksNsiTask{})))
	}
	return records(buf, "BPF iterator output", []uint32{recTask, recNS, recFD, recSock, recUnborn}, func(kind uint32, p unsafe.Pointer) error {
		switch kind {
		case recTask:
			s.Tasks = append(s.Tasks, taskFrom((*tasksNsiTask)(p)))
		case recNS:
			r := (*tasksNsiNs)(p)
			if !known(r.Type) {
				return fmt.Errorf("namespace %d of unknown type %#x", r.Inum, r.Type)
			}
			if _, ok := s.Namespaces[uint64(r.Inum)]; !ok {
				s.Namespaces[uint64(r.Inum)] = &Namespace{
					Type: namespaces.Type(r.Type), Ino: uint64(r.Inum), ID: r.Id,
					Owner: uint64(r.Owner), Parent: uint64(r.Parent), Level: int(r.Level),
				}
			}
		case recFD:
			r := (*tasksNsiFd)(p)
			if !known(r.Type) {
				return fmt.Errorf("fd %d of pid %d on a namespace of unknown type %#x", r.Fd, r.Tgid, r.Type)
			}
			s.FDs = append(s.FDs, FD{PID: int(r.Tgid), TID: int(r.Tid), FD: int(r.Fd),
				Type: namespaces.Type(r.Type), NS: NSRef{Ino: uint64(r.Inum), ID: r.Id}})
		case recSock, recUnborn:
			r := (*tasksNsiFd)(p)
			want := namespaces.Net
			if kind == recUnborn {
				want = namespaces.PID
			}
			if namespaces.Type(r.Type) != want {
				return fmt.Errorf("record of kind %d for pid %d on a namespace of type %#x, want %s", kind, r.Tgid, r.Type, want.Name())
			}
			fd := FD{PID: int(r.Tgid), TID: int(r.Tid), FD: int(r.Fd), Type: want, NS: NSRef{Ino: uint64(r.Inum), ID: r.Id}}
			if kind == recSock {
				s.Sockets = append(s.Sockets, fd)
			} else {
				s.Unborn = append(s.Unborn, fd)
			}
		}
		return nil
	})
}

// records calls fn for each record of buf, whose kinds must be among
// kinds, and fails on a record that is cut short, of another kind, or
// that fn refuses. buf must be 8-aligned (aligned).
func records(buf []byte, what string, kinds []uint32, fn func(kind uint32, p unsafe.Pointer) error) error {
	for off := 0; off < len(buf); {
		if len(buf)-off < 8 {
			return fmt.Errorf("%s: %d stray bytes at offset %d", what, len(buf)-off, off)
		}
		kind := binary.NativeEndian.Uint32(buf[off:])
		size := recordSize(kind)
		if size == 0 || !slices.Contains(kinds, kind) {
			return fmt.Errorf("%s: bad record kind %d at offset %d of %d", what, kind, off, len(buf))
		}
		if off+size > len(buf) {
			return fmt.Errorf("%s: record of kind %d at offset %d cut short at %d", what, kind, off, len(buf))
		}
		if err := fn(kind, unsafe.Pointer(&buf[off])); err != nil {
			return fmt.Errorf("%s at offset %d: %w", what, off, err)
		}
		off += size
	}
	return nil
}

// aligned returns buf, or a copy of it that starts on an 8-byte boundary:
// records are read in place as structs with u64 members. run's buffers
// are aligned already.
func aligned(buf []byte) []byte {
	if len(buf) == 0 || uintptr(unsafe.Pointer(unsafe.SliceData(buf)))%8 == 0 {
		return buf
	}
	words := make([]uint64, (len(buf)+7)/8)
	out := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(words))), len(buf))
	copy(out, buf)
	return out
}

// known reports whether t is a CLONE_NEW* flag of a namespace type.
func known(t uint32) bool { return slices.Contains(namespaces.Types, namespaces.Type(t)) }

// The record kinds of bpf/nsi.h.
const (
	recTask    = 1
	recNS      = 2
	recFD      = 3
	recWalk    = 4
	recWalkEnd = 5
	recSock    = 6
	recUnborn  = 7
)

func recordSize(kind uint32) int {
	switch kind {
	case recTask:
		return int(unsafe.Sizeof(tasksNsiTask{}))
	case recNS:
		return int(unsafe.Sizeof(tasksNsiNs{}))
	case recFD, recSock, recUnborn:
		return int(unsafe.Sizeof(tasksNsiFd{}))
	case recWalk:
		return int(unsafe.Sizeof(fdwalkNsiWalk{}))
	case recWalkEnd:
		return int(unsafe.Sizeof(fdwalkNsiWalkend{}))
	}
	return 0
}

func taskFrom(r *tasksNsiTask) Task {
	t := Task{
		TGID: int(r.Tgid), TID: int(r.Tid), PPID: int(r.Ppid),
		Comm:  cstring(r.Comm[:]),
		Flags: r.Flags, State: stateLetter(r.State, uint32(r.ExitState)),
		UID: r.Uid, EUID: r.Euid, SUID: r.Suid, FSUID: r.Fsuid, GID: r.Gid, EGID: r.Egid,
		Obj: r.Obj, StartBoottime: r.StartBoottime,
	}
	for i := range t.NS {
		t.NS[i] = NSRef{Ino: uint64(r.NsInum[i]), ID: r.NsId[i]}
	}
	return t
}

func cstring(b []int8) string {
	n := 0
	for n < len(b) && b[n] != 0 {
		n++
	}
	return string(unsafe.Slice((*byte)(unsafe.Pointer(&b[0])), n))
}

// stateLetter is what /proc/PID/stat prints for __state and exit_state:
// task_state_array[__task_state_index(state, exit)] of fs/proc/array.c
// and include/linux/sched.h, rule for rule. The modifier bits the kernel
// ORs into __state (TASK_WAKEKILL, TASK_NOLOAD, TASK_FREEZABLE, ...) are
// outside TASK_REPORT, so TASK_IDLE must be tested as a mask, not by
// equality: a freezable idle kthread (TASK_IDLE|TASK_FREEZABLE) is "I".
func stateLetter(state, exit uint32) byte {
	const (
		taskUninterruptible = 0x0002
		taskReport          = 0x7f // RUNNING ... PARKED, EXIT_DEAD and EXIT_ZOMBIE included
		taskReportIdle      = taskReport + 1
		taskIdle            = 0x0402 // TASK_UNINTERRUPTIBLE | TASK_NOLOAD
		taskRtlockWait      = 0x1000
		taskFrozen          = 0x8000 // 6.1+
	)
	s := (state | exit) & taskReport
	if state&taskIdle == taskIdle {
		s = taskReportIdle
	}
	// The kernel reports rtlock waiters and frozen tasks as "D".
	if state&(taskRtlockWait|taskFrozen) != 0 {
		s = taskUninterruptible
	}
	return "RSDTtXZPI"[bits.Len32(s)]
}

// label replaces the keyed hashes by small per-kind numbers, 1, 2, ... in
// the order tasks were met, so that what is printed is short and says
// nothing about the key either.
func (s *Snapshot) label() {
	var seen [taskobj.Count]map[uint64]uint64
	for i := range seen {
		seen[i] = make(map[uint64]uint64, len(s.Tasks))
	}
	for ti := range s.Tasks {
		for o, h := range s.Tasks[ti].Obj {
			if h == 0 {
				continue
			}
			l, ok := seen[o][h]
			if !ok {
				l = uint64(len(seen[o]) + 1)
				seen[o][h] = l
			}
			s.Tasks[ti].Obj[o] = l
		}
	}
}
