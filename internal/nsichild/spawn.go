//go:build cgo

package nsichild

/*
#cgo CFLAGS: -O2 -Wall
#include "nsi_child.h"
*/
import "C"

import "os"

// Supported says whether this build can run experiments: with cgo it
// links nsi_child.c and nsi_zygote.c (spawn_nocgo.go is the build without
// them).
func Supported() error { return nil }

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
