// Package clone runs clone experiments: a real clone(2), clone3(2) or
// unshare(2) call with the flags a user names, with both sides kept alive
// and inspected, then probed, to show what they share.
//
// It is the runner; what it runs and finds is pure data in two packages
// that need neither cgo nor privilege: clone/flags (the flags, the rules
// of clone(2) that explain an errno, the expected verdicts) and
// clone/report (the report types). The experiment's two processes and
// their pipe protocol are internal/nsichild.
//
// # A child that does not exec
//
// CLONE_FILES, CLONE_VM and CLONE_SIGHAND sharing is undone by execve, and
// os/exec with those flags corrupts the Go parent (docs/kernel-notes.md,
// "The experiment's processes", names the tests that pin both). So
// neither side of an experiment runs Go: the experiment's parent is a
// fork-like copy of nsinspect that runs a small C loop, and the
// experiment's child is cloned from it with the user's flags and runs the
// same loop (internal/nsichild/README.md says why C and which rules it
// follows). Both are driven over pipes (one request, one reply), perform
// a probe on request, and are inspected from Go through /proc (one
// procinfo.Snapshot per side), kcmp and the nsfs ioctls while they are
// parked.
//
// # The lab
//
// An experiment normally runs in a lab: nsinspect re-executes itself as a
// process in fresh namespaces of every type (PID 1 of its own PID
// namespace, with PDEATHSIG), and that process is the experiment's
// grandparent. Everything the experiment makes (processes, mounts, links,
// IPC objects) lives in the lab's namespaces and dies with it, even if
// nsinspect is SIGKILLed. The lab prints its report before it tears the
// experiment down; Reap, which main calls before it exits, waits for it,
// so that no process nsinspect made is left for init to reap. --host runs
// from nsinspect's own namespaces with only the probes that cannot change
// the host.
//
// Man pages: clone(2), clone3(2), unshare(2), kcmp(2), namespaces(7),
// cgroups(7) (CLONE_INTO_CGROUP).
package clone
