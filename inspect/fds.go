package inspect

import (
	"strconv"
	"strings"

	"github.com/nsinspect/nsinspect/procinfo"
	"github.com/nsinspect/nsinspect/schema"
)

// FD is one fd in `fds --json`.
type FD struct {
	FD         int          `json:"fd"`
	Kind       string       `json:"kind"`
	AnonName   string       `json:"anon_name,omitempty"` // "[eventfd]", "inotify"
	Path       string       `json:"path"`                // readlink of /proc/PID/fd/N, as the kernel names it
	Pos        int64        `json:"pos"`
	Flags      string       `json:"flags"`       // "O_RDWR|O_CLOEXEC"
	FlagsOctal string       `json:"flags_octal"` // as in fdinfo
	MntID      int          `json:"mnt_id"`
	MountPoint string       `json:"mount_point,omitempty"` // of mnt_id, in the process's own mountinfo
	Inode      uint64       `json:"inode"`
	Pidfd      *pidFD       `json:"pidfd,omitempty"`
	Namespace  *FDNamespace `json:"namespace,omitempty"`
	Extra      []string     `json:"extra,omitempty"` // kind-specific fdinfo lines
}

type pidFD struct {
	Pid   int   `json:"pid"` // 0: outside our pid namespace, -1: reaped
	NSpid []int `json:"nspid,omitempty"`
}

type FDNamespace struct {
	Type  string `json:"type,omitempty"`
	Inode uint64 `json:"ns,omitempty"`
	ID    uint64 `json:"id,omitempty"` // NS_GET_ID
	Error string `json:"error,omitempty"`
}

type FDs struct {
	SchemaVersion schema.Version `json:"schema_version"`
	PID           int            `json:"pid"`
	FDs           []FD           `json:"fds"`
}

// ReadFDs reads p's fd table from /proc: each fd's kind, path, fdinfo
// and, for a pidfd or an nsfs fd, what it refers to.
func ReadFDs(p *procinfo.Proc) (FDs, error) {
	fds, err := p.FDs()
	if err != nil {
		return FDs{}, ReadError(p, "fd table", err)
	}
	// mnt_id names a mount of the process's own mount namespace. Its
	// mountinfo is a nicety: without it (a zombie has none) the ids stay.
	mounts := map[int]string{}
	if ms, err := p.MountInfo(); err == nil {
		for _, m := range ms {
			mounts[m.ID] = m.MountPoint
		}
	}
	out := FDs{PID: p.PID, FDs: make([]FD, 0, len(fds))}
	for _, fd := range fds {
		j := FD{
			FD:         fd.Num,
			Kind:       string(fd.Kind),
			AnonName:   fd.AnonName,
			Path:       fd.Link,
			Pos:        fd.Info.Pos,
			Flags:      strings.Join(procinfo.OpenFlagNames(fd.Info.Flags), "|"),
			FlagsOctal: "0" + strconv.FormatUint(uint64(fd.Info.Flags), 8),
			MntID:      fd.Info.MntID,
			MountPoint: mounts[fd.Info.MntID],
			Inode:      fd.Info.Ino,
			Extra:      fd.Info.Extra,
		}
		if fd.Info.Pid != nil {
			j.Pidfd = &pidFD{Pid: *fd.Info.Pid, NSpid: fd.Info.NSpid}
		}
		if fd.Kind == procinfo.KindNsfs {
			j.Namespace = &FDNamespace{}
			if fd.NS != nil {
				j.Namespace = &FDNamespace{Type: fd.NS.Type.Name(), Inode: fd.NS.Ino, ID: fd.NS.ID}
			} else if fd.NSErr != nil {
				j.Namespace.Error = fd.NSErr.Error()
			}
		}
		out.FDs = append(out.FDs, j)
	}
	return out, nil
}
