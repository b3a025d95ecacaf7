package namespaces

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// Type is a namespace type, valued as its CLONE_NEW* flag. Name gives the
// short name used in /proc/PID/ns ("net"); String the flag ("CLONE_NEWNET").
type Type uint64

const (
	Cgroup Type = unix.CLONE_NEWCGROUP
	IPC    Type = unix.CLONE_NEWIPC
	Mount  Type = unix.CLONE_NEWNS
	Net    Type = unix.CLONE_NEWNET
	PID    Type = unix.CLONE_NEWPID
	Time   Type = unix.CLONE_NEWTIME
	User   Type = unix.CLONE_NEWUSER
	UTS    Type = unix.CLONE_NEWUTS
)

// Types lists every namespace type in the order lsns(8) sorts them.
var Types = []Type{Cgroup, IPC, Mount, Net, PID, Time, User, UTS}

var typeNames = map[Type][2]string{
	Cgroup: {"cgroup", "CLONE_NEWCGROUP"},
	IPC:    {"ipc", "CLONE_NEWIPC"},
	Mount:  {"mnt", "CLONE_NEWNS"},
	Net:    {"net", "CLONE_NEWNET"},
	PID:    {"pid", "CLONE_NEWPID"},
	Time:   {"time", "CLONE_NEWTIME"},
	User:   {"user", "CLONE_NEWUSER"},
	UTS:    {"uts", "CLONE_NEWUTS"},
}

// Name is the type's name in /proc/PID/ns and lsns -t: "net", "mnt".
func (t Type) Name() string {
	if n, ok := typeNames[t]; ok {
		return n[0]
	}
	return fmt.Sprintf("nstype(%#x)", uint64(t))
}

// String is the type's clone flag: "CLONE_NEWNET".
func (t Type) String() string {
	if n, ok := typeNames[t]; ok {
		return n[1]
	}
	return fmt.Sprintf("CLONE_NEW?(%#x)", uint64(t))
}

// Hierarchical reports whether NS_GET_PARENT means something for the type.
func (t Type) Hierarchical() bool { return t == PID || t == User }

// ParseType accepts a type as lsns -t takes it ("net", "mnt"), as its flag
// ("CLONE_NEWNET", "newnet") or by the long words people use ("network",
// "mount"). Case does not matter.
func ParseType(s string) (Type, error) {
	k := strings.ToLower(strings.TrimSpace(s))
	k = strings.TrimPrefix(k, "clone_")
	k = strings.TrimPrefix(k, "new")
	switch k {
	case "ns", "mount":
		k = "mnt"
	case "network":
		k = "net"
	}
	for t, n := range typeNames {
		if n[0] == k {
			return t, nil
		}
	}
	return 0, fmt.Errorf("%w: %q (known: %s)", ErrUnknownType, s, strings.Join(TypeNames(), ", "))
}

// TypeNames returns the short names of all types, in Types order.
func TypeNames() []string {
	out := make([]string, len(Types))
	for i, t := range Types {
		out[i] = t.Name()
	}
	return out
}

// Link is one entry of /proc/PID/ns. pid_for_children and
// time_for_children name the namespace the task's next children will be
// in, which differs from its own after unshare(CLONE_NEWPID|CLONE_NEWTIME).
type Link struct {
	Name string // file name under /proc/PID/ns
	Type Type
}

// Links lists the ten links of /proc/PID/ns in lexical order.
var Links = []Link{
	{"cgroup", Cgroup},
	{"ipc", IPC},
	{"mnt", Mount},
	{"net", Net},
	{"pid", PID},
	{"pid_for_children", PID},
	{"time", Time},
	{"time_for_children", Time},
	{"user", User},
	{"uts", UTS},
}

// LinkIndex is the index in Links of the link called name
// ("pid_for_children"), -1 for none.
func LinkIndex(name string) int {
	return slices.IndexFunc(Links, func(l Link) bool { return l.Name == name })
}

// MarshalText writes the type by its short name ("net").
func (t Type) MarshalText() ([]byte, error) { return []byte(t.Name()), nil }

// UnmarshalText reads any form ParseType accepts.
func (t *Type) UnmarshalText(b []byte) error {
	v, err := ParseType(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}
