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
// neither side of an experiment runs Go: the experiment's parent is forked
// by a zygote (nsinspect's executable started as "nsinspect-zygote", which
// runs C before the Go runtime exists) and runs a small C loop, and the
// experiment's child is cloned from it with the user's flags and runs the
// same loop (internal/nsichild/README.md says why C and which rules it
// follows). Both are driven over pipes (one request, one reply), perform
// a probe on request, and are inspected from Go through /proc (one
// procinfo.Snapshot per side), kcmp and the nsfs ioctls while they are
// parked. The zygote kills and reaps everything an experiment made before
// the next one starts.
//
// # The lab
//
// An experiment normally runs in a lab: new mount, UTS, IPC, network,
// pid, cgroup and time namespaces (and a user namespace for a lab that
// needs one: see below; CLONE_INTO_CGROUP keeps the cgroup namespace)
// whose PID 1 is the zygote, started with PDEATHSIG, so that everything
// the experiment makes (processes, mounts, links, IPC objects) lives in
// the lab's namespaces and dies with it, even if nsinspect is SIGKILLed.
// A root nsinspect inspects the lab's processes from its own namespaces,
// through its /proc, so the report numbers them as nsinspect sees them;
// there is no second Go process. An unprivileged nsinspect (or --userns)
// makes the lab in a new user namespace and re-executes itself there
// (LabMain), since only inside can it read and setns into the lab's
// processes; that lab starts its own zygote. The report is out before the
// experiment is torn down; Reap, which main calls before it exits, waits
// for the teardown, so that no process nsinspect made is left for init to
// reap. --host runs from nsinspect's own namespaces, with a zygote that is
// a subreaper, and only the probes that cannot change the host.
//
// Man pages: clone(2), clone3(2), unshare(2), kcmp(2), namespaces(7),
// cgroups(7) (CLONE_INTO_CGROUP).
package clone
