//go:build cgo

package nsichild

/*
#cgo CFLAGS: -O2 -Wall
#include "nsi_child.h"
*/
import "C"

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
	"unsafe"
)

// Supported says whether this build can run experiments: with cgo it
// links nsi_child.c (spawn_nocgo.go is the build without it).
func Supported() error { return nil }

// spawnMu serialises spawns: nsi_spawn_parent hands the request to the new
// process through C statics.
var spawnMu sync.Mutex

// Spawn makes the experiment's parent process and returns its pid. ends
// are the four pipe ends the parent and child use (parent command read,
// parent reply write, child command read, child reply write: NewSide's,
// parent's first); the new process keeps only those, as fds 3 to 6. The
// caller reaps it.
func Spawn(e Experiment, ends [4]*os.File) (int, error) {
	var ce C.struct_nsi_experiment
	ce.flags = C.uint64_t(e.Flags)
	ce.exit_signal = C.int32_t(e.ExitSignal)
	if e.Clone3 {
		ce.use_clone3 = 1
	}
	ce.cgroup_fd = C.int32_t(e.CgroupFD)
	var cfds [4]C.int
	for i, f := range ends {
		fd, err := rawFD(f)
		if err != nil {
			return -1, err
		}
		cfds[i] = C.int(fd)
	}
	spawnMu.Lock()
	pid := C.nsi_spawn_parent(&ce, (*C.int)(unsafe.Pointer(&cfds[0])))
	spawnMu.Unlock()
	// The files must stay open until the clone has copied their fds.
	runtime.KeepAlive(ends)
	if pid < 0 {
		return -1, fmt.Errorf("cloning the experiment's parent: %w", os.NewSyscallError("clone", syscall.Errno(-pid)))
	}
	return int(pid), nil
}

// rawFD returns f's descriptor without File.Fd's side effect of switching
// it to blocking mode, which would take it off the Go poller.
func rawFD(f *os.File) (int, error) {
	sc, err := f.SyscallConn()
	if err != nil {
		return -1, err
	}
	var fd int
	err = sc.Control(func(u uintptr) { fd = int(u) })
	return fd, err
}

// ProbeWordAddr is the address of nsi_probe_word, the global the memory
// probe's child writes. The experiment's parent is a fork-like copy of
// this process, so the word is at the same address in its memory.
func ProbeWordAddr() uintptr { return uintptr(unsafe.Pointer(&C.nsi_probe_word)) }
