package inspect

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/discover"
	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/namespaces"
)

// LsFilter is ls's -t (types, repeatable or comma-separated) and -p (a
// task whose namespaces to list; "" for all).
type LsFilter struct {
	Types []string
	Task  string
}

// Keep turns -t and -p into a predicate. -p pins the process and reads
// its namespaces before the scan, giving them to held, so that a process
// that exits meanwhile still selects the namespaces it was in and their
// identities stay comparable with the scan's.
func (o LsFilter) Keep(held *namespaces.Holder) (func(*model.Namespace) bool, error) {
	types := map[namespaces.Type]bool{}
	for _, arg := range o.Types {
		for _, s := range strings.Split(arg, ",") {
			t, err := namespaces.ParseType(s)
			if err != nil {
				return nil, BadInputf("-t: %v", err)
			}
			types[t] = true
		}
	}
	var ids map[namespaces.Key]bool
	if o.Task != "" {
		p, err := openTask(o.Task)
		if err != nil {
			return nil, err
		}
		defer p.Close()
		links, err := p.NamespacesHeld(held)
		if err != nil {
			return nil, NSReadError(o.Task, p, err)
		}
		ids = map[namespaces.Key]bool{}
		// A zombie's nsproxy was dropped at exit: only its pid and user
		// links still resolve, and those are its namespaces to list.
		st, _ := p.Stat()
		zombie := st.State == 'Z'
		for _, l := range links {
			if l.Err != nil && zombie && errors.Is(l.Err, unix.ENOENT) {
				continue
			}
			if l.Err != nil {
				return nil, NSReadError(o.Task, p, l.Err)
			}
			ids[l.NS.Key()] = true
		}
	}
	return func(ns *model.Namespace) bool {
		return (len(types) == 0 || types[ns.Type]) && (ids == nil || ids[ns.Key()])
	}, nil
}

// LsPass is ls's one pass: the model, the predicate of -t and -p, and
// the namespaces it keeps, in the table's order.
type LsPass struct {
	Model *model.Model
	Keep  func(*model.Namespace) bool
	List  []*model.Namespace
}

// Pass runs ls's discovery from source: -p's task pinned and its
// namespaces held (Keep) before the pass, which is told that the fds
// held are nsinspect's own, not holders to list. notes are for stderr,
// whatever the error.
func (o LsFilter) Pass(source string) (p LsPass, notes []string, err error) {
	held := namespaces.NewHolder()
	defer held.Close()
	if p.Keep, err = o.Keep(held); err != nil {
		return p, nil, err
	}
	if p.Model, notes, err = Discover(source, discover.Options{OwnFDs: held.FDs()}); err != nil {
		return p, notes, err
	}
	p.List = LsSelect(p.Model.Namespaces, p.Keep)
	return p, notes, nil
}

// DeniedLine says what a discovery pass could not read, and why.
func DeniedLine(d model.Denied) string {
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(d.NSLinks, "processes' ns links (NPROCS, PID, USER, COMMAND undercounted)")
	add(d.Threads, "threads' ns links (thread-only namespaces)")
	add(d.FDs, "processes' fd tables (fd-held namespaces)")
	add(d.Mountinfo, "mount tables or nsfs mount points (bind-mounted namespaces)")
	add(d.Relatives, "parent/owner lookups (PARENT, OWNER)")
	add(d.Sockets, "fd tables' sockets (socket-held network namespaces)")
	why := ": other users' processes need CAP_SYS_PTRACE (run as root for a complete list)"
	if os.Geteuid() == 0 {
		// Root was refused: the task holds capabilities outside our
		// bounding set, is in a user namespace ours does not own, or a
		// security module said no (this VM's pid 1 does all of that).
		why = ": refused even to root (tasks with capabilities nsinspect lacks, in a user namespace it does not own, or denied by a security module)"
	}
	return "could not read " + strings.Join(parts, ", ") + why
}

// UserNames maps uids to names once each; there are few distinct uids
// among thousands of processes.
type UserNames map[uint32]string

// Name is uid's user name, or the number where it has none.
func (c UserNames) Name(uid uint32) string {
	if n, ok := c[uid]; ok {
		return n
	}
	n := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(n); err == nil {
		n = u.Username
	}
	c[uid] = n
	return n
}

// LsSelect is the namespaces of one pass that keep selects, in the
// pass's order.
func LsSelect(all []*model.Namespace, keep func(*model.Namespace) bool) []*model.Namespace {
	var list []*model.Namespace
	for _, ns := range all {
		if keep(ns) {
			list = append(list, ns)
		}
	}
	return list
}

// Ls is `ls --json` and /api/namespaces: the source that ran and the
// namespaces.
type Ls struct {
	PassHead
	Namespaces []LsNS `json:"namespaces"`
}

// LsNS is one namespace in ls --json. The first thirteen keys are those
// of lsns -J --output-all, in its order and with its JSON types (util-linux
// 2.38 to 2.42 print the same keys), so that scripts written for lsns keep
// working; the rest are nsinspect's.
type LsNS struct {
	NS      uint64  `json:"ns"`
	Type    string  `json:"type"`
	Path    *string `json:"path"` // /proc/PID/ns/TYPE of the lowest PID; null without one
	NProcs  int     `json:"nprocs"`
	PID     *int    `json:"pid"`
	PPID    *int    `json:"ppid"`
	Command *string `json:"command"`
	UID     *uint32 `json:"uid"`
	User    *string `json:"user"`
	NetNSID *string `json:"netnsid"` // the id, or "unassigned"; null for other types or where unknown
	NSFS    *string `json:"nsfs"`    // nsfs mount points in our mount namespace, "\n" between two
	PNS     uint64  `json:"pns"`     // parent's inode, 0 for none
	ONS     uint64  `json:"ons"`     // owner's inode, 0 for none

	Zombies    int               `json:"zombies"` // how many of nprocs are zombies
	ID         *uint64           `json:"id"`      // NS_GET_ID; null on kernels without it (before 6.18)
	Parent     *uint64           `json:"parent"`  // NS_GET_ID of the parent; null without one, or without NS_GET_ID
	Owner      *uint64           `json:"owner"`   // NS_GET_ID of the owning user ns; likewise
	Sources    []string          `json:"sources"`
	Threads    []model.TaskRef   `json:"threads,omitempty"`
	BindMounts []model.BindMount `json:"bindmounts,omitempty"`
	FDs        []model.FD        `json:"fds,omitempty"`
	Sockets    []model.FD        `json:"sockets,omitempty"`
}

// NSID is a namespace's NS_GET_ID for JSON: nil where the kernel has none,
// never a made-up number.
func NSID(ns namespaces.NS) *uint64 {
	if ns.ID == 0 {
		return nil
	}
	id := ns.ID
	return &id
}

// LsOf is `ls --json` of list, the namespaces a pass from source found.
func LsOf(source string, list []*model.Namespace, users UserNames) Ls {
	out := make([]LsNS, 0, len(list))
	for _, ns := range list {
		j := LsNS{
			NS: ns.Ino, Type: ns.Type.Name(), NProcs: ns.NProcs, Zombies: ns.Zombies, ID: NSID(ns.NS),
			Sources: ns.Sources.Names(), Threads: ns.Threads, BindMounts: ns.BindMounts, FDs: ns.FDs,
			Sockets: ns.Sockets,
		}
		if ns.NProcs > 0 {
			path, pid, ppid, cmd, uid, usr := ns.ProcPath(), ns.PID, ns.PPID, ns.Command, ns.UID, users.Name(ns.UID)
			j.Path, j.PID, j.PPID, j.Command, j.UID, j.User = &path, &pid, &ppid, &cmd, &uid, &usr
		}
		if p := ns.Parent; p != nil {
			j.Parent, j.PNS = NSID(p.NS), p.Ino
		}
		if o := ns.Owner; o != nil {
			j.Owner, j.ONS = NSID(o.NS), o.Ino
		}
		if id := ns.NetNSIDText(); id != "" {
			j.NetNSID = &id
		}
		if len(ns.NSFS) > 0 {
			// lsns joins them with a newline (with a comma under -W).
			paths := strings.Join(ns.NSFS, "\n")
			j.NSFS = &paths
		}
		out = append(out, j)
	}
	return Ls{PassHead: PassHead{Source: source}, Namespaces: out}
}
