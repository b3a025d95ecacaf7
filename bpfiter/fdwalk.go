package bpfiter

import (
	"fmt"
	"unsafe"

	"github.com/nsinspect/nsinspect/bpfload"
)

// WalkPath is the chain of struct members the fd walk follows, as the
// course notes' gdb exercise writes it.
const WalkPath = "task->files->fdt->fd[i]->f_path.dentry->d_name.name"

// WalkFD is one open slot of a task's fd table, read from kernel memory.
type WalkFD struct {
	FD     int
	Name   string // f_path.dentry->d_name.name (at most 63 bytes kept)
	Ino    uint64 // f_inode->i_ino
	Mode   uint32 // f_inode->i_mode
	Flags  uint32 // f_flags
	SMagic uint64 // f_inode->i_sb->s_magic: which filesystem
}

// Walk is one task's fd table as the kernel holds it.
type Walk struct {
	PID    int
	MaxFDs int // fdt->max_fds: the table's current size
	FDs    []WalkFD
}

// WalkFDs reads the fd table of the process pid (a number in our pid
// namespace) from kernel memory, NSI_FDWALK_MAX slots per iterator run.
// It returns an error wrapping ErrUnavailable where BPF cannot run, and
// one saying so when no such process was met.
func WalkFDs(pid int) (*Walk, error) {
	spec, err := bpfload.Object(fdwalkObject)
	if err != nil {
		return nil, fmt.Errorf("reading the embedded BPF object: %w", err)
	}
	var objs fdwalkObjects
	if err := loadSpec(spec, &objs); err != nil {
		return nil, err
	}
	defer objs.Close()
	w := &Walk{PID: pid}
	for start := uint32(0); ; {
		if err := objs.Cfg.Put(uint32(0), fdwalkNsiWalkcfg{Tgid: uint32(pid), Start: start}); err != nil {
			return nil, fmt.Errorf("configuring the fd walk: %w", err)
		}
		buf, err := run(objs.NsiFdwalk)
		if err != nil {
			return nil, fmt.Errorf("running the fd walk: %w", err)
		}
		next, found, err := w.decode(buf)
		if err != nil {
			return nil, err
		}
		if !found {
			if start == 0 {
				return nil, fmt.Errorf("no process %d in the kernel's task list (it exited, or is not a thread-group leader visible from our pid namespace)", pid)
			}
			return nil, fmt.Errorf("process %d exited during the fd walk", pid)
		}
		if int(next) >= w.MaxFDs || next <= start {
			return w, nil
		}
		start = next
	}
}

// decode reads one fd walk run's records into w: where the next run
// starts, and whether the task was met at all. Output that is not a whole
// series of nsi_walk and nsi_walkend records is an error, never a panic.
func (w *Walk) decode(buf []byte) (next uint32, found bool, err error) {
	err = records(aligned(buf), "fd walk output", []uint32{recWalk, recWalkEnd}, func(kind uint32, p unsafe.Pointer) error {
		switch kind {
		case recWalk:
			r := (*fdwalkNsiWalk)(p)
			w.FDs = append(w.FDs, WalkFD{FD: int(r.Fd), Name: cstring(r.Name[:]), Ino: r.I_ino,
				Mode: r.I_mode, Flags: r.F_flags, SMagic: r.S_magic})
		case recWalkEnd:
			r := (*fdwalkNsiWalkend)(p)
			w.MaxFDs = int(r.MaxFds)
			next, found = r.Next, true
		}
		return nil
	})
	if err != nil {
		return 0, false, err
	}
	return next, found, nil
}
