package inspect

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nsinspect/nsinspect/engine"
	"github.com/nsinspect/nsinspect/procinfo"
	"github.com/nsinspect/nsinspect/schema"
	"github.com/nsinspect/nsinspect/sharing"
)

// Show is one task in `show --json`: what /proc exposes of its
// task_struct.
type Show struct {
	SchemaVersion schema.Version        `json:"schema_version"`
	PID           int                   `json:"pid"`
	TID           int                   `json:"tid"`
	Tgid          int                   `json:"tgid"`
	PPid          int                   `json:"ppid"`
	State         string                `json:"state"`
	Comm          string                `json:"comm"`
	Kthread       bool                  `json:"kthread"` // PF_KTHREAD in stat's flags
	Zombie        bool                  `json:"zombie"`
	Threads       Threads               `json:"threads"`
	NSpid         []int                 `json:"nspid"`
	NStgid        []int                 `json:"nstgid"`
	UID           [4]uint32             `json:"uid"` // real, effective, saved, filesystem
	GID           [4]uint32             `json:"gid"`
	UIDMap        []procinfo.IDMapRange `json:"uid_map"`
	GIDMap        []procinfo.IDMapRange `json:"gid_map"`
	Cgroups       []procinfo.Cgroup     `json:"cgroups"`
	// Container is the container the cgroup paths name (nil: none).
	Container *engine.Container  `json:"container,omitempty"`
	Cwd       string             `json:"cwd,omitempty"`
	Root      string             `json:"root,omitempty"`
	Umask     string             `json:"umask,omitempty"` // octal, "0022"
	Signals   map[string]Signals `json:"signals"`         // SigPnd, ShdPnd, SigBlk, SigIgn, SigCgt
	NS        []ShowNS           `json:"namespaces"`
	// OtherNetSockets are its sockets made in another network namespace
	// than its net link's (OtherNetSockets).
	OtherNetSockets []sharing.SocketNet `json:"sockets_other_netns,omitempty"`
	Missing         []Missing           `json:"unavailable,omitempty"`
	Note            string              `json:"note,omitempty"`
	// Kernel is the task's kernel objects, with --kernel only.
	Kernel *Kernel `json:"kernel,omitempty"`
}

type Threads struct {
	Count int   `json:"count"`
	TIDs  []int `json:"tids"`
}

type Signals struct {
	Hex   string   `json:"hex"`
	Names []string `json:"names"`
}

type ShowNS struct {
	Link  string `json:"link"` // name under /proc/PID/ns
	Type  string `json:"type,omitempty"`
	Inode uint64 `json:"ns,omitempty"`
	ID    uint64 `json:"id,omitempty"` // NS_GET_ID
	Error string `json:"error,omitempty"`
}

// Missing names a field /proc would not give, and why.
type Missing struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// zombieNote: exit_task_namespaces() drops the nsproxy, so a zombie's
// ns links give ENOENT; its pid and user namespaces stay readable, because
// they hang off its struct pid and its credentials (measured on 6.18).
const zombieNote = "zombie: namespaces released (pid and user remain: they hang off struct pid and the credentials)"

// ReadShowKernel is ReadShow plus the kernel objects. The iterator runs
// first: where it cannot, nothing else is worth reading.
func ReadShowKernel(p *procinfo.Proc) (Show, error) {
	snap, ts, err := KernelTasks(p)
	if err != nil {
		return Show{}, err
	}
	out, err := ReadShow(p)
	if err != nil {
		return out, err
	}
	out.Kernel = KernelObjects(snap, ts[0])
	return out, nil
}

// ReadShow turns one procinfo snapshot into show's view. The snapshot's
// rules decide what is read and when to read again (a task that exits
// midway); show only names its fields: a zombie's released fields are the
// note's, not "unavailable", and the ten namespace links share one entry.
func ReadShow(p *procinfo.Proc) (Show, error) {
	out := Show{PID: p.PID, TID: p.TID, Signals: map[string]Signals{}}
	t, err := p.Snapshot(procinfo.PartTIDs | procinfo.PartIDMaps | procinfo.PartCgroup | procinfo.PartFS)
	if err != nil {
		var fe *procinfo.FieldError
		if errors.As(err, &fe) {
			return out, ReadError(p, fe.Field, fe.Err)
		}
		return out, err
	}
	st, status := t.Stat, t.Status
	out.Comm, out.State = st.Comm, status.State
	out.Kthread, out.Zombie = st.IsKthread(), t.Zombie()
	out.Tgid, out.PPid = status.Tgid, status.PPid
	out.NSpid, out.NStgid = status.NSpid, status.NStgid
	out.UID, out.GID = status.Uid, status.Gid
	if status.Umask >= 0 {
		out.Umask = fmt.Sprintf("%04o", status.Umask)
	}
	for _, m := range []struct {
		name string
		v    uint64
	}{{"SigPnd", status.SigPnd}, {"ShdPnd", status.ShdPnd}, {"SigBlk", status.SigBlk}, {"SigIgn", status.SigIgn}, {"SigCgt", status.SigCgt}} {
		out.Signals[m.name] = Signals{Hex: fmt.Sprintf("%016x", m.v), Names: nonNil(procinfo.SignalNames(m.v))}
	}
	out.Threads = Threads{Count: status.Threads, TIDs: t.TIDs}
	if out.Zombie {
		out.Note = zombieNote
	}
	out.UIDMap, out.GIDMap, out.Cgroups = t.UIDMap, t.GIDMap, t.Cgroups
	out.Container = (&ContainerNames{}).FromCgroups(p.PID, out.Cgroups)
	out.Cwd, out.Root = t.Cwd, t.Root

	denied := false
	for _, l := range t.Namespaces {
		j := ShowNS{Link: l.Link.Name}
		if l.Err == nil {
			j.Type, j.Inode, j.ID = l.NS.Type.Name(), l.NS.Ino, l.NS.ID
		}
		out.NS = append(out.NS, j)
	}
	if !out.Zombie && !out.Kthread {
		out.otherNetSockets(p, t)
	}
	for _, m := range t.Missing {
		if link, ok := strings.CutPrefix(m.Field, "ns/"); ok {
			for i := range out.NS {
				if out.NS[i].Link == link {
					out.NS[i].Error = showNSError(m)
				}
			}
			denied = denied || m.Cause == procinfo.CauseDenied
			continue
		}
		if m.Cause != procinfo.CauseReleased {
			out.Missing = append(out.Missing, Missing{showField(m.Field), m.Reason})
		}
	}
	if denied {
		out.Missing = append(out.Missing, Missing{"namespaces", "needs " + procinfo.PtraceNeed})
	}
	var refused []string
	for _, m := range t.Missing {
		if m.Cause == procinfo.CauseDenied && !strings.HasPrefix(m.Field, "ns/") {
			refused = append(refused, showField(m.Field))
		}
	}
	if denied {
		refused = append(refused, "namespaces")
	}
	if len(refused) > 0 {
		// The rest is a report worth printing; the exit code still says
		// that the kernel refused part of it.
		return out, PartialRead{Privilegef("show %d: %s could not be read: %s (the rest is printed)",
			p.PID, strings.Join(refused, ", "), procinfo.DeniedHint("reading them"))}
	}
	return out, nil
}

// otherNetSockets names the task's sockets made in another network
// namespace than its net link's. A refusal (pidfd_getfd needs
// CAP_SYS_PTRACE over the task) is said under unavailable, without
// changing the exit code: the sockets are an extra beside the task's
// own fields.
func (out *Show) otherNetSockets(p *procinfo.Proc, t *procinfo.Task) {
	for _, l := range t.Namespaces {
		if l.Link.Name != "net" || l.Err != nil {
			continue
		}
		socks, err := OtherNetSockets(p, l.NS)
		out.OtherNetSockets = socks
		if err != nil && procinfo.IsDenied(err) {
			out.Missing = append(out.Missing, Missing{"sockets_other_netns", "needs " + procinfo.PtraceNeed + " (pidfd_getfd)"})
		}
	}
}

// showField is the name show's JSON gives a field of the snapshot.
func showField(procFile string) string {
	switch procFile {
	case "task":
		return "threads.tids"
	case "cgroup":
		return "cgroups"
	}
	return procFile
}

// showNSError is the word for a namespace link that could not be read.
func showNSError(m procinfo.Missing) string {
	switch m.Cause {
	case procinfo.CauseReleased:
		return "released"
	case procinfo.CauseDenied:
		return "permission denied"
	}
	return m.Reason
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// PartialRead is a read that gave a report with parts the kernel
// refused: the report is printed, then the error decides the exit code.
type PartialRead struct{ error }

func (p PartialRead) Unwrap() error { return p.error }
