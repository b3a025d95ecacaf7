// Package posture reads the isolation posture of one process from the
// kernel: its namespaces against a reference process (/proc/PID/ns,
// namespaces(7)), its capability sets, no_new_privs and seccomp mode
// (/proc/PID/status, proc_pid_status(5), capabilities(7), seccomp(2)), its
// LSM label (/proc/PID/attr/current, proc_pid_attr(5)), its user and group
// maps (user_namespaces(7)), the masked, read-only and sensitive mounts of
// its mount namespace (/proc/PID/mountinfo, proc_pid_mountinfo(5)), the
// device nodes under its /dev (through /proc/PID/root with openat2(2)
// RESOLVE_IN_ROOT), and its cgroup's pids and memory limits (cgroups(7)).
// Every fact carries the evidence it was read from: a file, the 1-based
// line and its text, or the call that answered.
//
// The parsers take text and are pure, tested on fixtures captured from
// real containers (testdata/capture.sh): ParseStatus, CapNames,
// ParseIDMap, ParseMountInfo with FindMasked, FindReadonly and
// FindSensitive, ParseCgroup with PlanCgroup, ParseAttr. Read takes pinned
// procinfo.Procs, reads each fact on its own, and verifies after reading
// that the target is still the process that was pinned.
package posture
