// Package sharing compares two pinned tasks (procinfo.Proc) and says, with
// the kernel's evidence, which of the sixteen things clone(2) can share they
// share: the ten /proc/PID/ns links, compared by NS_GET_ID (ioctl_ns(2)),
// and the six kernel objects kcmp(2) compares (KCMP_FILES, KCMP_FS,
// KCMP_VM, KCMP_SIGHAND, KCMP_IO, KCMP_SYSVSEM), plus KCMP_FILE for every
// fd number open in both tasks.
//
// STYLE.md suggests that this comparison live in namespaces/. It does not,
// because it needs pinned tasks and namespaces/ must not import procinfo
// (procinfo imports namespaces). The clone experiment engine and the
// compare command both call Compare.
//
// # Verdicts
//
// Every Resource has Shared true, false, or nil (indeterminate) with the
// reason in its Note. Two rules keep the verdicts honest:
//
//   - kcmp(2) takes PIDs in nsinspect's own pid namespace, by number. A
//     number names the pinned task only while that task lives, so Compare
//     pins each thread with a PIDFD_THREAD pidfd and checks, after every
//     kcmp call, that both tasks are still alive. If one exited, Compare
//     returns an error matching procinfo.ErrProcessGone and no report:
//     a result that may describe another process is never returned.
//   - KCMP_IO and KCMP_SYSVSEM compare pointers that stay NULL until first
//     use (an io_context is allocated by ioprio_set(2) or block I/O under
//     some schedulers; an undo list by semop(2) with SEM_UNDO or by
//     clone(CLONE_SYSVSEM)). Two unrelated tasks that never used them
//     compare "same". /proc shows neither pointer, and ioprio_get(2) returns
//     0 both for "no io_context" and for an io_context with class NONE, so
//     neither is evidence. Compare decides instead by comparing each task
//     with a reference whose pointers are known to be NULL: kthreadd (pid
//     2, a kernel thread spawned from init_task without CLONE_IO or
//     CLONE_SYSVSEM that never makes a system call). kcmp orders
//     obfuscated pointers through a bijection, so "equal to kthreadd's"
//     means NULL. A "same" where both pointers are non-NULL is shared; one
//     where both are NULL is indeterminate (nothing is shared yet, and
//     CLONE_IO/CLONE_SYSVSEM left no trace); without kthreadd in view
//     (another pid namespace) or without the privilege to kcmp it, "same"
//     stays indeterminate. A "different" is always a definite "separate".
//
// Verdicts are a snapshot: a task that unshares or closes fds while being
// compared is described as it was at each read.
//
// Man pages: kcmp(2), ioctl_ns(2), clone(2), namespaces(7), pidfd_open(2).
package sharing
