// Package clone runs clone experiments: a real clone(2), clone3(2) or
// unshare(2) call with the flags a user names, with both sides kept alive
// and inspected, then probed, to show what they share.
//
// # A child that does not exec
//
// CLONE_FILES, CLONE_VM and CLONE_SIGHAND sharing is undone by execve, and
// os/exec with those flags corrupts the Go parent (see
// ../shared/KERNEL-NOTES.md). So neither side of an experiment runs Go: the
// experiment's parent is a fork-like copy of nsinspect made by nsi_child.c
// that runs a small C loop, and the experiment's child is cloned from it
// with the user's flags and runs the same loop. Both are driven over pipes
// (one request, one reply), perform a probe on request, and are inspected
// from Go through /proc, kcmp and the nsfs ioctls while they are parked.
//
// Of the two ways KERNEL-NOTES.md reports as working we chose the small C
// file over the Go assembly trampoline: the child must do real work on
// request (open, mount, sethostname, shmget, rt_sigaction, ...), which is a
// few lines of C but a great deal of assembly, and it does not depend on
// marking a goroutine as "in a syscall" (runtime internals) the way a VFORK
// through the trampoline did. The C code issues raw system calls itself and
// touches no libc state after the clone; README.md here explains the rules.
//
// # The lab
//
// An experiment normally runs in a lab: nsinspect re-executes itself as a
// process in fresh namespaces of every type (PID 1 of its own PID
// namespace, with PDEATHSIG), and that process is the experiment's
// grandparent. Everything the experiment makes (processes, mounts, links,
// IPC objects) lives in the lab's namespaces and dies with it, even if
// nsinspect is SIGKILLed. --host runs from nsinspect's own namespaces with
// only the probes that cannot change the host.
//
// Man pages: clone(2), clone3(2), unshare(2), kcmp(2), namespaces(7).
package clone
