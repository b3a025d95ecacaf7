package clone

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nsinspect/nsinspect/procinfo"
)

// Side is what /proc shows of one side of the experiment. Fields that
// could not be read are named in Errors, never left silently empty.
type Side struct {
	PID     int    `json:"pid"` // in the pid namespace of the lab (or of nsinspect, with --host)
	TID     int    `json:"tid"`
	Comm    string `json:"comm"`
	State   string `json:"state"`
	PPid    int    `json:"ppid"`
	Tgid    int    `json:"tgid"`
	NSpid   []int  `json:"nspid"`
	Threads int    `json:"threads"`

	Namespaces []NSEntry `json:"namespaces"`
	FDs        []FDEntry `json:"fds"`
	Mounts     []Mount   `json:"mounts"`
	IPC        *IPCView  `json:"ipc,omitempty"`
	Net        []NetLink `json:"net"`
	Hostname   string    `json:"hostname"`

	UIDMap        []procinfo.IDMapRange `json:"uid_map"`
	GIDMap        []procinfo.IDMapRange `json:"gid_map"`
	Cgroup        []procinfo.Cgroup     `json:"cgroup"`
	TimensOffsets string                `json:"timens_offsets"`
	Cwd           string                `json:"cwd"`
	Root          string                `json:"root"`
	Umask         string                `json:"umask"`
	SigCgt        string                `json:"sigcgt"`
	SigBlk        string                `json:"sigblk"`

	Errors []string `json:"errors,omitempty"`
}

// NSEntry is one /proc/PID/ns link.
type NSEntry struct {
	Link string `json:"link"`
	ID   uint64 `json:"id"`
	Ino  uint64 `json:"ino"`
}

// FDEntry is one open fd.
type FDEntry struct {
	FD     int    `json:"fd"`
	Kind   string `json:"kind"`
	Target string `json:"target"`
}

// Mount is one line of mountinfo, with its propagation (shared:N,
// master:N, or none: private).
type Mount struct {
	ID          int    `json:"mnt_id"`
	MountPoint  string `json:"mount_point"`
	FSType      string `json:"fstype"`
	Source      string `json:"source"`
	Propagation string `json:"propagation"`
}

// snapshot reads one side. note records a field that failed.
func snapshot(p *procinfo.Proc) *Side {
	s := &Side{PID: p.PID, TID: p.TID}
	note := func(what string, err error) {
		if err != nil {
			s.Errors = append(s.Errors, fmt.Sprintf("%s: %v", what, err))
		}
	}
	st, err := p.Status()
	note("status", err)
	s.Comm, s.State, s.PPid, s.Tgid, s.NSpid, s.Threads = st.Name, st.State, st.PPid, st.Tgid, st.NSpid, st.Threads
	if st.Umask >= 0 {
		s.Umask = fmt.Sprintf("%04o", st.Umask)
	}
	s.SigCgt, s.SigBlk = fmt.Sprintf("%016x", st.SigCgt), fmt.Sprintf("%016x", st.SigBlk)

	links, err := p.Namespaces()
	note("ns", err)
	for _, l := range links {
		if l.Err != nil {
			note("ns/"+l.Link.Name, l.Err)
			continue
		}
		s.Namespaces = append(s.Namespaces, NSEntry{Link: l.Link.Name, ID: l.NS.ID, Ino: l.NS.Ino})
	}
	fds, err := p.FDs()
	note("fd", err)
	for _, f := range fds {
		s.FDs = append(s.FDs, FDEntry{FD: f.Num, Kind: string(f.Kind), Target: f.Link})
	}
	mounts, err := p.MountInfo()
	note("mountinfo", err)
	for _, m := range mounts {
		s.Mounts = append(s.Mounts, Mount{ID: m.ID, MountPoint: m.MountPoint, FSType: m.FSType, Source: m.Source, Propagation: propagation(m.Optional)})
	}
	s.UIDMap, err = p.UIDMap()
	note("uid_map", err)
	s.GIDMap, err = p.GIDMap()
	note("gid_map", err)
	s.Cgroup, err = p.Cgroups()
	note("cgroup", err)
	if b, err := p.ReadFile("timens_offsets"); err == nil {
		s.TimensOffsets = strings.TrimSpace(string(b))
	} else {
		note("timens_offsets", err)
	}
	s.Cwd, err = p.Readlink("cwd")
	note("cwd", err)
	s.Root, err = p.Readlink("root")
	note("root", err)
	s.Net, err = netLinks(p)
	note("net links", err)
	s.Hostname, err = hostnameOf(p)
	note("hostname", err)
	s.IPC, err = ipcOf(p)
	note("sysvipc", err)
	return s
}

func propagation(optional []string) string {
	if len(optional) == 0 {
		return "private"
	}
	return strings.Join(optional, " ")
}

// nsLink returns the id of one namespace link in a snapshot.
func (s *Side) nsLink(name string) (NSEntry, bool) {
	for _, n := range s.Namespaces {
		if n.Link == name {
			return n, true
		}
	}
	return NSEntry{}, false
}

func itoa(i int) string { return strconv.Itoa(i) }

func splitLines(s string) []string { return strings.Split(s, "\n") }
