package clone

import (
	"fmt"
	"strings"
	"sync"

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

// NSEntry is one /proc/PID/ns link. ID is NS_GET_ID, absent on kernels
// without it (before 6.18); Ino is then the identity, which is sound here
// because both sides of an experiment are alive, and so hold their
// namespaces, while they are read and compared.
type NSEntry struct {
	Link string `json:"link"`
	ID   uint64 `json:"id,omitempty"`
	Ino  uint64 `json:"ino"`
}

// same reports whether e and o name one namespace. All nsfs inodes live on
// one superblock, so the inode alone identifies a namespace that is held.
func (e NSEntry) same(o NSEntry) bool {
	if e.ID != 0 && o.ID != 0 {
		return e.ID == o.ID
	}
	return e.Ino != 0 && e.Ino == o.Ino
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

// snapshot reads one side on its own.
func snapshot(p *procinfo.Proc) *Side {
	s := snapshotTask(p, true)
	s.readNSViews(p, nsViewAll)
	return s
}

// snapshotPair reads both sides at once: the per-task files of each in
// parallel, then (with views) the views of a namespace (mounts, links,
// hostname, SysV IPC) once per distinct namespace, since a namespace that
// parent and child share looks the same from both.
func snapshotPair(parent, child *procinfo.Proc, views bool) (*Side, *Side) {
	var ps, cs *Side
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); cs = snapshotTask(child, views) }()
	ps = snapshotTask(parent, views)
	wg.Wait()
	if !views {
		return ps, cs
	}
	var own nsView // the views the child must read itself
	for _, v := range nsViews {
		a, okA := ps.nsLink(v.link)
		b, okB := cs.nsLink(v.link)
		if !okA || !okB || !a.same(b) {
			own |= v.view
		}
	}
	wg.Add(1)
	go func() { defer wg.Done(); cs.readNSViews(child, own) }()
	ps.readNSViews(parent, nsViewAll)
	wg.Wait()
	cs.copyNSViews(ps, nsViewAll&^own)
	return ps, cs
}

// nsView selects the parts of a snapshot that belong to a namespace
// rather than to the task.
type nsView uint8

const (
	viewMounts nsView = 1 << iota
	viewNet
	viewUTS
	viewIPC
	nsViewAll = viewMounts | viewNet | viewUTS | viewIPC
)

var nsViews = []struct {
	link string
	view nsView
}{{"mnt", viewMounts}, {"net", viewNet}, {"uts", viewUTS}, {"ipc", viewIPC}}

// snapshotTask reads what belongs to the task itself: its status and
// namespace links, and unless brief also its fds, id maps, cgroup, time
// offsets, cwd and root.
func snapshotTask(p *procinfo.Proc, full bool) *Side {
	s := &Side{PID: p.PID, TID: p.TID}
	st, err := p.Status()
	s.note("status", err)
	s.Comm, s.State, s.PPid, s.Tgid, s.NSpid, s.Threads = st.Name, st.State, st.PPid, st.Tgid, st.NSpid, st.Threads
	if st.Umask >= 0 {
		s.Umask = fmt.Sprintf("%04o", st.Umask)
	}
	s.SigCgt, s.SigBlk = fmt.Sprintf("%016x", st.SigCgt), fmt.Sprintf("%016x", st.SigBlk)

	links, err := p.Namespaces()
	s.note("ns", err)
	for _, l := range links {
		if l.Err != nil {
			s.note("ns/"+l.Link.Name, l.Err)
			continue
		}
		s.Namespaces = append(s.Namespaces, NSEntry{Link: l.Link.Name, ID: l.NS.ID, Ino: l.NS.Ino})
	}
	if !full {
		return s
	}
	fds, err := p.FDs()
	s.note("fd", err)
	for _, f := range fds {
		s.FDs = append(s.FDs, FDEntry{FD: f.Num, Kind: string(f.Kind), Target: f.Link})
	}
	s.UIDMap, err = p.UIDMap()
	s.note("uid_map", err)
	s.GIDMap, err = p.GIDMap()
	s.note("gid_map", err)
	s.Cgroup, err = p.Cgroups()
	s.note("cgroup", err)
	if b, err := p.ReadFile("timens_offsets"); err == nil {
		s.TimensOffsets = strings.TrimSpace(string(b))
	} else {
		s.note("timens_offsets", err)
	}
	s.Cwd, err = p.Readlink("cwd")
	s.note("cwd", err)
	s.Root, err = p.Readlink("root")
	s.note("root", err)
	return s
}

// readNSViews reads the selected namespace views through p.
func (s *Side) readNSViews(p *procinfo.Proc, which nsView) {
	var err error
	if which&viewMounts != 0 {
		mounts, err := p.MountInfo()
		s.note("mountinfo", err)
		for _, m := range mounts {
			s.Mounts = append(s.Mounts, Mount{ID: m.ID, MountPoint: m.MountPoint, FSType: m.FSType, Source: m.Source, Propagation: propagation(m.Optional)})
		}
	}
	if which&viewNet != 0 {
		s.Net, err = netLinks(p)
		s.note("net links", err)
	}
	if which&viewUTS != 0 {
		s.Hostname, err = hostnameOf(p)
		s.note("hostname", err)
	}
	if which&viewIPC != 0 {
		s.IPC, err = ipcOf(p)
		s.note("sysvipc", err)
	}
}

// copyNSViews takes the selected views from a task in the same namespaces.
func (s *Side) copyNSViews(from *Side, which nsView) {
	if which&viewMounts != 0 {
		s.Mounts = from.Mounts
	}
	if which&viewNet != 0 {
		s.Net = from.Net
	}
	if which&viewUTS != 0 {
		s.Hostname = from.Hostname
	}
	if which&viewIPC != 0 {
		s.IPC = from.IPC
	}
}

func (s *Side) note(what string, err error) {
	if err != nil {
		s.Errors = append(s.Errors, fmt.Sprintf("%s: %v", what, err))
	}
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

func splitLines(s string) []string { return strings.Split(s, "\n") }
