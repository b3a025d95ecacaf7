package report

import "github.com/nsinspect/nsinspect/procinfo"

// Side is what /proc shows of one side of the experiment. Fields that
// could not be read are named in Unavailable with the reason (procinfo's
// convention, which `show --json` follows too), never left silently empty.
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
	Cgroup        []procinfo.Cgroup     `json:"cgroups"`
	TimensOffsets string                `json:"timens_offsets"`
	Cwd           string                `json:"cwd"`
	Root          string                `json:"root"`
	Umask         string                `json:"umask"`
	SigCgt        string                `json:"sigcgt"`
	SigBlk        string                `json:"sigblk"`

	Unavailable []procinfo.Missing `json:"unavailable,omitempty"`
}

// NSEntry is one /proc/PID/ns link. ID is NS_GET_ID, absent on kernels
// without it (before 6.18); Ino is then the identity, which is sound here
// because both sides of an experiment are alive, and so hold their
// namespaces, while they are read and compared.
type NSEntry struct {
	Link string `json:"link"`
	Ino  uint64 `json:"ns"` // the inode
	ID   uint64 `json:"id,omitempty"`
}

// Same reports whether e and o name one namespace. All nsfs inodes live on
// one superblock, so the inode alone identifies a namespace that is held.
func (e NSEntry) Same(o NSEntry) bool {
	if e.ID != 0 && o.ID != 0 {
		return e.ID == o.ID
	}
	return e.Ino != 0 && e.Ino == o.Ino
}

// NSLink returns one namespace link of a snapshot.
func (s *Side) NSLink(name string) (NSEntry, bool) {
	for _, n := range s.Namespaces {
		if n.Link == name {
			return n, true
		}
	}
	return NSEntry{}, false
}

// CgroupV2 is the side's cgroup in the cgroup v2 hierarchy (the "0::"
// line of /proc/PID/cgroup), as the reader's cgroup namespace shows it.
func (s *Side) CgroupV2() (string, bool) {
	for _, cg := range s.Cgroup {
		if cg.HierarchyID == 0 {
			return cg.Path, true
		}
	}
	return "", false
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

// NetLink is one network interface seen in a network namespace.
type NetLink struct {
	Index int      `json:"index"`
	Name  string   `json:"name"`
	Type  string   `json:"type"`
	Up    bool     `json:"up"`
	Addrs []string `json:"addrs"`
}

// IPCView is the SysV IPC objects visible in one IPC namespace.
type IPCView struct {
	Shm []procinfo.IPCObject `json:"shm"`
	Sem []procinfo.IPCObject `json:"sem"`
	Msg []procinfo.IPCObject `json:"msg"`
}
