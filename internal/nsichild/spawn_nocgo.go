//go:build !cgo

package nsichild

import "os"

// Without cgo there is no nsi_child.c, so no process to run an experiment
// in: callers stop at Supported, and StartZygote says the same if reached.
// README.md says why the child is C.
func Supported() error { return ErrNoCgo }

func rawFD(*os.File) (int, error) { return -1, ErrNoCgo }
