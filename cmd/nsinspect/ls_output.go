package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/schema"
)

// lsNS is one namespace in ls --json. The first thirteen keys are those
// of lsns -J --output-all, in its order and with its JSON types (util-linux
// 2.38 to 2.42 print the same keys), so that scripts written for lsns keep
// working; the rest are nsinspect's.
type lsNS struct {
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
}

// nsID is a namespace's NS_GET_ID for JSON: nil where the kernel has none,
// never a made-up number.
func nsID(ns namespaces.NS) *uint64 {
	if ns.ID == 0 {
		return nil
	}
	id := ns.ID
	return &id
}

func lsJSON(source string, list []*model.Namespace, users userCache) any {
	out := make([]lsNS, 0, len(list))
	for _, ns := range list {
		j := lsNS{
			NS: ns.Ino, Type: ns.Type.Name(), NProcs: ns.NProcs, Zombies: ns.Zombies, ID: nsID(ns.NS),
			Sources: ns.Sources.Names(), Threads: ns.Threads, BindMounts: ns.BindMounts, FDs: ns.FDs,
		}
		if ns.NProcs > 0 {
			path, pid, ppid, cmd, uid, usr := ns.ProcPath(), ns.PID, ns.PPID, ns.Command, ns.UID, users.name(ns.UID)
			j.Path, j.PID, j.PPID, j.Command, j.UID, j.User = &path, &pid, &ppid, &cmd, &uid, &usr
		}
		if p := ns.Parent; p != nil {
			j.Parent, j.PNS = nsID(p.NS), p.Ino
		}
		if o := ns.Owner; o != nil {
			j.Owner, j.ONS = nsID(o.NS), o.Ino
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
	return struct {
		SchemaVersion schema.Version `json:"schema_version"`
		Source        string         `json:"source"`
		Namespaces    []lsNS         `json:"namespaces"`
	}{Source: source, Namespaces: out}
}

// lsTree prints two forests like lsns --tree and lxkns: user namespaces
// by parent with the namespaces each owns beneath it, then pid namespaces
// by parent. With a filter, a node is printed when it or something below
// it matches, so that the path to a match stays visible.
func lsTree(w io.Writer, all []*model.Namespace, keep func(*model.Namespace) bool, users userCache) error {
	userKids := map[*model.Namespace][]*model.Namespace{}
	pidKids := map[*model.Namespace][]*model.Namespace{}
	var userRoots, pidRoots, orphans []*model.Namespace
	for _, ns := range all {
		switch {
		case ns.Type == namespaces.User && ns.Parent != nil:
			userKids[ns.Parent] = append(userKids[ns.Parent], ns)
		case ns.Type == namespaces.User:
			userRoots = append(userRoots, ns)
		case ns.Owner != nil:
			userKids[ns.Owner] = append(userKids[ns.Owner], ns)
		default:
			orphans = append(orphans, ns) // owner not visible to us
		}
		if ns.Type == namespaces.PID {
			if ns.Parent != nil {
				pidKids[ns.Parent] = append(pidKids[ns.Parent], ns)
			} else {
				pidRoots = append(pidRoots, ns)
			}
		}
	}
	t := treePrinter{w: w, keep: keep, users: users}
	t.forest(userKids, append(userRoots, orphans...))
	t.forest(pidKids, pidRoots)
	return t.err
}

type treePrinter struct {
	w     io.Writer
	keep  func(*model.Namespace) bool
	users userCache
	err   error
}

func (t *treePrinter) forest(kids map[*model.Namespace][]*model.Namespace, roots []*model.Namespace) {
	for _, r := range roots {
		t.node(kids, r, "", "")
	}
}

// wanted reports whether ns or a descendant passes the filter.
func (t *treePrinter) wanted(kids map[*model.Namespace][]*model.Namespace, ns *model.Namespace) bool {
	if t.keep(ns) {
		return true
	}
	for _, k := range kids[ns] {
		if t.wanted(kids, k) {
			return true
		}
	}
	return false
}

func (t *treePrinter) node(kids map[*model.Namespace][]*model.Namespace, ns *model.Namespace, first, rest string) {
	if !t.wanted(kids, ns) {
		return
	}
	if _, err := fmt.Fprintf(t.w, "%s%s\n", first, t.label(ns)); err != nil && t.err == nil {
		t.err = err
	}
	var shown []*model.Namespace
	for _, k := range kids[ns] {
		if t.wanted(kids, k) {
			shown = append(shown, k)
		}
	}
	for i, k := range shown {
		if i == len(shown)-1 {
			t.node(kids, k, rest+"└─", rest+"  ")
		} else {
			t.node(kids, k, rest+"├─", rest+"│ ")
		}
	}
}

func (t *treePrinter) label(ns *model.Namespace) string {
	var b strings.Builder
	b.WriteString(ns.String())
	if ns.ID != 0 {
		fmt.Fprintf(&b, " id=%d", ns.ID)
	}
	if ns.NProcs > 0 {
		fmt.Fprintf(&b, " nprocs=%d pid=%d user=%s %q", ns.NProcs, ns.PID, t.users.name(ns.UID), ns.Command)
	} else {
		fmt.Fprintf(&b, " nprocs=0 %s", holderText(ns))
	}
	fmt.Fprintf(&b, " [%s]", ns.Sources)
	return b.String()
}
