// Package nsichild is the experiment's two processes, the zygote they
// come from, and the protocols that drive them. The zygote (nsi_zygote.c,
// zygote.go) is nsinspect's executable run as "nsinspect-zygote": a C
// constructor runs it before the Go runtime starts. It forks each
// experiment's parent (nsi_child.c), which makes, on request, the child
// the user's clone flags make, and it reaps all of them; both run a small C loop that
// performs one request at a time (open, chdir, mount, sethostname, shmget,
// rt_sigaction, execve, unshare, ...) with raw system calls only, and
// answers with one reply. README.md here says why they are C and which
// rules that C follows.
//
// The Go side of the protocol (Op, the 128-byte request and reply) is
// checked against nsi_child.h when cgo builds the package (abi.go): a
// constant or a layout that differs fails the build. Without cgo there is
// no C child; StartZygote and Supported return ErrNoCgo, and the rest of
// nsinspect works.
//
// Man pages: clone(2), clone3(2), pipe(7) (PIPE_BUF atomicity),
// prctl(2) (PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER), close_range(2),
// unix(7) (SCM_RIGHTS), pidfd_open(2).
package nsichild
