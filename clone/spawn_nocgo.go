//go:build !cgo

package clone

import "os"

// Without cgo there is no nsi_child.c, so no process to run an experiment
// in: the entry points (onHost, runLab) stop at childSupport, so the two
// below are never reached, and the rest of the package (flags, rules,
// explanations) works as in a cgo build. README.md says why the child is C.
func childSupport() error { return ErrNoCgo }

func spawnParent(experiment, [4]*os.File) (int, error) { return -1, ErrNoCgo }

func probeWordAddr() uintptr { return 0 }
