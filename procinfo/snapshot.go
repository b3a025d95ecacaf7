package procinfo

import (
	"bytes"
	"errors"

	"golang.org/x/sys/unix"
)

// Part selects what a Snapshot reads besides stat, status and the ten
// namespace links, which it always reads.
type Part uint

const (
	PartTIDs   Part = 1 << iota // task/: the thread group's TIDs
	PartFDs                     // fd/ and fdinfo/
	PartIDMaps                  // uid_map, gid_map
	PartCgroup                  // cgroup
	PartTimens                  // timens_offsets
	PartFS                      // cwd, root
)

// Task is one task as /proc showed it in one pass, read through the pin.
// A field that could not be read keeps its zero value and is named in
// Missing, with the reason: see the package documentation.
type Task struct {
	PID, TID int
	Stat     Stat
	Status   Status
	// Namespaces is the ten links in namespaces.Links order; a link that
	// could not be read carries its error and is in Missing as "ns/LINK".
	Namespaces    []NSLink
	TIDs          []int // sorted
	FDs           []FD
	UIDMap        []IDMapRange
	GIDMap        []IDMapRange
	Cgroups       []Cgroup
	TimensOffsets string // as the file has it, trailing newline trimmed
	Cwd, Root     string
	Missing       []Missing
}

// Zombie reports whether the task had exited, unreaped, when it was read.
func (t *Task) Zombie() bool { return t.Stat.State == 'Z' }

// Missing is one field a Snapshot could not read. Field is the file under
// /proc/PID ("cwd", "ns/net", "task"); Reason says why in words for a
// user; Cause sorts it.
type Missing struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
	Cause  Cause  `json:"-"`
}

// Cause is why a field is missing.
type Cause uint8

const (
	// CauseError: the read failed; Reason is the error's text.
	CauseError Cause = iota
	// CauseDenied: the kernel refused the read (EACCES, EPERM); Reason
	// names the privilege, PtraceNeed.
	CauseDenied
	// CauseReleased: the task is a zombie and released the field at exit
	// (its nsproxy, fs_struct and files_struct): ENOENT with nothing to
	// show, rather than a failure.
	CauseReleased
)

// PtraceNeed names the privilege the kernel checks before it shows
// another user's fd table, cwd, root or namespaces: ptrace read access
// (PTRACE_MODE_READ_FSCREDS, ptrace(2)).
const PtraceNeed = "CAP_SYS_PTRACE (ptrace read access to another user's process)"

// ReasonReleased is the Reason of every CauseReleased field.
const ReasonReleased = "released at exit (zombie)"

// FieldError is a Snapshot that failed: a field it cannot do without
// (stat, status, the ns directory) could not be read, or the task exited
// before the reads were done (Field "status"). It matches ErrProcessGone
// when the task is gone.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// Snapshot reads the task best-effort: stat and status must be there, any
// other field that fails is named in Missing. It ends with a liveness
// check, so nothing from a reused PID is returned.
//
// A process that exits during the reads is still "alive" to the pidfd
// while it is a zombie, but its namespaces, cwd and root vanish midway
// (exit_task_namespaces runs before the state becomes Z): the reads then
// straddle the exit. So when a live task's namespace link vanished,
// Snapshot waits for the exit to finish (the pidfd polls readable once the
// process is a zombie, at most a second) and reads again: a zombie stays
// one, so the second view is consistent, or the process is gone.
func (p *Proc) Snapshot(parts Part) (*Task, error) {
	t, err := p.snapshotOnce(parts)
	if err != nil || t.Zombie() || !t.exiting() {
		return t, err
	}
	unix.Poll([]unix.PollFd{{Fd: int32(p.Pidfd()), Events: unix.POLLIN}}, 1000)
	return p.snapshotOnce(parts)
}

// exiting reports whether a namespace link vanished from a live task.
func (t *Task) exiting() bool {
	for _, l := range t.Namespaces {
		if l.Err != nil && !isDenied(l.Err) {
			return true
		}
	}
	return false
}

func (p *Proc) snapshotOnce(parts Part) (*Task, error) {
	t := &Task{PID: p.PID, TID: p.TID}
	var err error
	if t.Stat, err = p.Stat(); err != nil {
		return t, &FieldError{"stat", err}
	}
	if t.Status, err = p.Status(); err != nil {
		return t, &FieldError{"status", err}
	}
	if parts&PartTIDs != 0 {
		t.TIDs, err = p.threadIDs()
		t.miss("task", err)
	}
	if parts&PartIDMaps != 0 {
		t.UIDMap, err = p.UIDMap()
		t.miss("uid_map", err)
		t.GIDMap, err = p.GIDMap()
		t.miss("gid_map", err)
	}
	if parts&PartCgroup != 0 {
		t.Cgroups, err = p.Cgroups()
		t.miss("cgroup", err)
	}
	if parts&PartFS != 0 {
		t.Cwd, err = p.Readlink("cwd")
		t.miss("cwd", err)
		t.Root, err = p.Readlink("root")
		t.miss("root", err)
	}
	if t.Namespaces, err = p.Namespaces(); err != nil {
		return t, &FieldError{"ns", err}
	}
	for _, l := range t.Namespaces {
		if l.Err != nil {
			t.miss("ns/"+l.Link.Name, l.Err)
		}
	}
	if parts&PartFDs != 0 {
		t.FDs, err = p.FDs()
		t.miss("fd", err)
	}
	if parts&PartTimens != 0 {
		err = p.readWith("timens_offsets", func(b []byte) error {
			t.TimensOffsets = string(bytes.TrimSpace(b))
			return nil
		})
		t.miss("timens_offsets", err)
	}
	if err := p.Alive(); err != nil {
		return t, &FieldError{"status", err}
	}
	return t, nil
}

// miss records field as missing when err is not nil.
func (t *Task) miss(field string, err error) {
	if err == nil {
		return
	}
	m := Missing{Field: field, Reason: err.Error()}
	switch {
	case t.Zombie() && errors.Is(err, unix.ENOENT):
		m.Cause, m.Reason = CauseReleased, ReasonReleased
	case isDenied(err):
		m.Cause, m.Reason = CauseDenied, "needs "+PtraceNeed
	}
	t.Missing = append(t.Missing, m)
}

func isDenied(err error) bool { return errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) }

// threadIDs lists the thread group's TIDs. A thread's own directory has
// no task/, so for PID:TID the group leader is pinned to read it.
func (p *Proc) threadIDs() ([]int, error) {
	leader := p
	if p.IsThread() {
		l, err := Open(p.PID)
		if err != nil {
			return nil, err
		}
		defer l.Close()
		leader = l
	}
	return leader.dirIDs("task")
}
