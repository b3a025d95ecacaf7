//go:build !amd64

package tracer

// No fork(2) or vfork(2) system call here (arm64 has only clone and
// clone3): -1 matches no system call number.
const nrFork, nrVfork = int64(-1), int64(-1)
