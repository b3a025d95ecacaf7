package posture

// Evidence is where one fact was read: a file and the line in it (1-based;
// 0 when the fact is the whole file or its absence), the text of that line
// as read, or the call that answered (stat(2), prctl(2), an ioctl).
type Evidence struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Text string `json:"text,omitempty"`
	Call string `json:"call,omitempty"`
}

// Facts is the isolation posture of one process, each fact with the
// evidence it came from. A fact that could not be read is left at its
// zero value with Err (on that fact) saying why; the others stand.
type Facts struct {
	Namespaces      map[string]Namespace `json:"namespaces"` // by link name: "net", "pid_for_children"
	Capabilities    Capabilities         `json:"capabilities"`
	NoNewPrivs      Flag                 `json:"no_new_privs"`
	Seccomp         Seccomp              `json:"seccomp"`
	LSM             LSM                  `json:"lsm"`
	UIDMap          IDMap                `json:"uid_map"`
	GIDMap          IDMap                `json:"gid_map"`
	MaskedPaths     PathList             `json:"masked_paths"`
	ReadonlyPaths   PathList             `json:"readonly_paths"`
	SensitiveMounts SensitiveMounts      `json:"sensitive_mounts"`
	Devices         Devices              `json:"devices"`
	Cgroup          Cgroup               `json:"cgroup"`
	// Refused counts the reads the kernel refused (EACCES, EPERM): facts
	// that more privilege would have read. Not part of the JSON: each
	// such fact carries its own Err.
	Refused int `json:"-"`
}

// Namespace is one /proc/PID/ns link against the reference's. With no
// reference process (audit from inside a container), Shared is proven
// only where the link is one of the kernel's initial namespaces, whose
// inode numbers are fixed (PROC_*_INIT_INO); otherwise Proven is false.
type Namespace struct {
	NS uint64 `json:"ns,omitempty"` // the target's namespace: its inode, as lsns's NS column
	ID uint64 `json:"id,omitempty"` // and its NS_GET_ID (Linux 6.18)
	// ReferenceNS and ReferenceID are the reference's namespace of the
	// same link; absent with no reference.
	ReferenceNS uint64 `json:"reference_ns,omitempty"`
	ReferenceID uint64 `json:"reference_id,omitempty"`
	// Target and Reference are the links' text ("net:[4026532285]"),
	// for messages; "" where unread or with no reference.
	Target    string     `json:"-"`
	Reference string     `json:"-"`
	Shared    bool       `json:"shared"`
	Proven    bool       `json:"proven"` // Shared is a proof, not a guess
	Why       string     `json:"why,omitempty"`
	Evidence  []Evidence `json:"evidence"`
	Err       string     `json:"error,omitempty"`
}

// Capabilities are the five sets of /proc/PID/status as names
// ("CAP_SYS_ADMIN"); a bit the names table does not know shows as
// "CAP_<n>".
type Capabilities struct {
	Effective   []string   `json:"effective"`
	Permitted   []string   `json:"permitted"`
	Inheritable []string   `json:"inheritable"`
	Bounding    []string   `json:"bounding"`
	Ambient     []string   `json:"ambient"`
	Evidence    []Evidence `json:"evidence"`
	Err         string     `json:"error,omitempty"`
}

// Flag is a boolean fact.
type Flag struct {
	Value    bool       `json:"value"`
	Evidence []Evidence `json:"evidence"`
	Err      string     `json:"error,omitempty"`
}

// Seccomp is the Seccomp and Seccomp_filters lines of /proc/PID/status.
type Seccomp struct {
	Mode     string     `json:"mode"`    // disabled, strict or filter
	Filters  int        `json:"filters"` // -1 where the kernel does not say (before 5.9)
	Evidence []Evidence `json:"evidence"`
	Err      string     `json:"error,omitempty"`
}

// LSM is the task's security label. Label is nil, with Reason, where no
// LSM gives one (attr/current reads EINVAL).
type LSM struct {
	Label    *string    `json:"label"`
	AppArmor *string    `json:"apparmor,omitempty"` // attr/apparmor/current, where it exists
	Reason   string     `json:"reason,omitempty"`
	Evidence []Evidence `json:"evidence"`
	Err      string     `json:"error,omitempty"`
}

// IDRange is one line of uid_map or gid_map.
type IDRange struct {
	Inside  uint32 `json:"inside"`
	Outside uint32 `json:"outside"`
	Count   uint32 `json:"count"`
}

// IDMap is /proc/PID/uid_map or gid_map, read in the reader's user
// namespace. RootIsHostRoot: id 0 inside maps to id 0 of the reader's
// user namespace (the host's, for an audit from the host).
type IDMap struct {
	Ranges         []IDRange  `json:"ranges"`
	Identity       bool       `json:"identity"` // 0 0 4294967295: the host's own map
	RootIsHostRoot bool       `json:"root_is_host_root"`
	Evidence       []Evidence `json:"evidence"`
	Err            string     `json:"error,omitempty"`
}

// Path is one masked or read-only path and how it is so.
type Path struct {
	Path     string   `json:"path"`
	How      string   `json:"how"` // "bind mount of /dev/null", "tmpfs, read-only", "mount option ro"
	Evidence Evidence `json:"evidence"`
}

// PathList is a list of paths, with Err when mountinfo could not be read.
type PathList struct {
	Paths []Path `json:"paths"`
	Err   string `json:"error,omitempty"`
}

// SensitiveMount is a host path mounted into the target that gives power
// over the host: an engine's socket, the host's /, /proc, /sys,
// /sys/fs/cgroup read-write, /var/run, /dev.
type SensitiveMount struct {
	Path      string   `json:"path"`   // where the target sees it
	Source    string   `json:"source"` // the host path (mountinfo root within the host's filesystem)
	Kind      string   `json:"kind"`   // docker-socket, podman-socket, host-root, host-proc, host-sys, cgroupfs-rw, host-run, host-dev
	ReadWrite bool     `json:"read_write"`
	Evidence  Evidence `json:"evidence"`
}

// SensitiveMounts is the list, with Err when mountinfo could not be read.
// Note says what the list could not decide (without a reference process,
// the kinds that need the host's mountinfo).
type SensitiveMounts struct {
	Mounts []SensitiveMount `json:"mounts"`
	Note   string           `json:"note,omitempty"`
	Err    string           `json:"error,omitempty"`
}

// Device is one device node under the target's /dev.
type Device struct {
	Path  string `json:"path"`
	Type  string `json:"type"` // "c" or "b"
	Major uint32 `json:"major"`
	Minor uint32 `json:"minor"`
}

// Devices is the device nodes in the target's mount namespace, under
// /dev, read through /proc/PID/root.
type Devices struct {
	Nodes    []Device   `json:"nodes"`
	Evidence []Evidence `json:"evidence"`
	Err      string     `json:"error,omitempty"`
}

// Cgroup is the target's cgroup and its limits. PidsMax and MemoryMax are
// as the files say ("max", "1073741824"); "" when the controller is not
// there. On cgroup v1 they come from pids.max and
// memory.limit_in_bytes.
type Cgroup struct {
	Version   int        `json:"version"` // 1 or 2
	Path      string     `json:"path"`
	PidsMax   string     `json:"pids_max"`
	MemoryMax string     `json:"memory_max"`
	Evidence  []Evidence `json:"evidence"`
	Err       string     `json:"error,omitempty"`
}

// FactNames are the facts a policy may name, as the JSON spells them.
var FactNames = []string{
	"namespaces", "capabilities", "no_new_privs", "seccomp", "lsm",
	"uid_map", "gid_map", "masked_paths", "readonly_paths",
	"sensitive_mounts", "devices", "cgroup",
}
