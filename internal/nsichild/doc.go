// Package nsichild is the experiment's two processes and the pipe
// protocol that drives them. nsi_child.c makes the experiment's parent (a
// fork-like copy of nsinspect that never returns into Go) and, on request,
// the child the user's clone flags make; both run a small C loop that
// performs one request at a time (open, chdir, mount, sethostname, shmget,
// rt_sigaction, execve, unshare, ...) with raw system calls only, and
// answers with one reply. README.md here says why they are C and which
// rules that C follows.
//
// The Go side of the protocol (Op, the 128-byte request and reply) is
// checked against nsi_child.h when cgo builds the package (abi.go): a
// constant or a layout that differs fails the build. Without cgo there is
// no C child; Spawn and Supported return ErrNoCgo, and the rest of
// nsinspect works.
//
// Man pages: clone(2), clone3(2), pipe(7) (PIPE_BUF atomicity),
// prctl(2) (PR_SET_PDEATHSIG), close_range(2).
package nsichild
