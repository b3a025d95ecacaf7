// Package procinfo is a pinned view of one process, or one thread, from
// /proc (proc(5)).
//
// # Pinning
//
// PIDs are reused, and a process's start time is no guard (a reused PID had
// the same start time in 48 of 50 forced reuses on our machines). Open pins
// the task twice: a pidfd (pidfd_open(2)) for the process, then a directory
// fd on /proc/PID (or /proc/PID/task/TID), then checks through the pidfd
// that the process is still alive. Every later read goes through the
// directory fd with openat/readlinkat: if the process dies and its number
// is reused, the old directory fd answers ESRCH instead of silently showing
// the new process. A read that finds the task gone returns an error that
// matches ErrProcessGone and names the task; nothing is ever attributed to
// the wrong process.
//
// # Parsers and readers
//
// Parsers (Parse*) take an io.Reader or a string and know nothing of /proc
// paths; they are table-tested on fixtures under testdata/ and fuzzed.
// Readers (methods of *Proc) fetch the bytes through the pinned fd and hand
// them to a parser.
//
// A reader reads the whole file into a pooled buffer and parses the bytes
// in place (text.go), and a parser given an io.Reader reads it the same
// way: a parser copies only what it keeps, so that a Snapshot, which a
// clone experiment takes of both sides, makes little garbage. The line
// and field splitting is fuzzed against bufio.Scanner and strings.Fields,
// so that a parser reads a file as it would through a scanner.
//
// # One snapshot of a task
//
// Snapshot reads one task in one pass (stat, status, the ten ns links and
// the Parts asked for: task/, fd/, uid_map and gid_map, cgroup,
// timens_offsets, cwd and root) for every command that shows a task as a
// whole: `show`, and both sides of a clone experiment. Its rules are the
// only ones: stat and status must be there (else a *FieldError), and a
// live task whose namespace link vanished is exiting, so Snapshot waits
// for the exit (at most a second) and reads again.
//
// Missing fields follow one convention. A field that could not be read
// keeps its zero value and is listed in Task.Missing, in read order, as
// {Field, Reason, Cause}: Field is the file under /proc/PID ("cwd",
// "ns/net", "task", "fd"), Reason says why for a user, and Cause sorts it:
//   - CauseDenied (EACCES, EPERM): Reason is "needs " + PtraceNeed;
//   - CauseReleased (a zombie's ENOENT: exit released its nsproxy,
//     fs_struct and files_struct): Reason is ReasonReleased; there is
//     nothing to show, and `show` says so once in its note;
//   - CauseError: anything else; Reason is the error's text.
//
// Views keep the list's JSON shape, {"field", "reason"}, under
// "unavailable" (`show --json`, and each side of `clone --json`).
//
// # Why prometheus/procfs is not used
//
// procfs reads by path (/proc/PID/...), which is exactly the race pinning
// avoids; procinfo reads the bytes itself, through the pinned fd. Its
// parsers could still have served on those bytes, but none fits a file
// nsinspect reads, so the module does not depend on procfs at all:
//   - status: ProcStatus drops State, PPid, Threads, NStgid, SigBlk, SigCgt,
//     SigIgn, Umask and Kthread, all of which nsinspect shows;
//   - ns: procfs keeps the namespace inode as a uint32 (it is 64-bit), and
//     fails on a zombie's namespaces; we identify namespaces by NS_GET_ID;
//   - sysvipc: procfs has no parser;
//   - fdinfo: ProcFDInfo is only reachable through Proc.FDInfo, which opens
//     /proc/PID/fdinfo/N by path, keeps every field as a string, and drops
//     a pidfd's Pid:/NSpid: lines; ParseFDInfo keeps them, and the fd table is read
//     through the pinned dirfd (readlinkat, fstatat, openat of fd/N);
//   - mountinfo and cgroup: procfs's parsers (parseMountInfo, parseCgroups)
//     are unexported, reachable only through path-based readers, and
//     procfs leaves mountinfo's octal escapes (\040) in the paths;
//   - uid_map/gid_map: procfs has no parser.
//
// The server (package server, `nsinspect serve`) is the one place that
// does use procfs, where its parser serves and reading by path is made
// safe: the per-network-namespace interface counters of each container
// (procfs.Proc.NetDev on /proc/PID/net/dev). The container's init is
// pinned with a pidfd first and checked alive after the read, so the
// bytes were that process's (a PID is not reused while its process
// lives). Everything else the server reads, cgroup paths and namespace
// links included, goes through this package's pinned readers.
//
// # One file per kernel file
//
// fd.go (fd/N links and kinds), fdinfo.go, mountinfo.go, idmap.go
// (uid_map, gid_map), cgroup.go, status.go (+ signal.go to decode its
// masks), stat.go, ns.go; snapshot.go reads them all in one pass, and text.go holds
// the read buffers and the line and field splitting the parsers share.
// testdata/capture.sh recaptures every fixture from a live machine (the
// engine package reads container ids out of cgroup paths).
package procinfo
