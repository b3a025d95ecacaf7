package tracer

import "golang.org/x/sys/unix"

// fork(2) and vfork(2), which x86_64 has as system calls of their own;
// newer architectures (arm64) have only clone and clone3.
const nrFork, nrVfork = int64(unix.SYS_FORK), int64(unix.SYS_VFORK)
