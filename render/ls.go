package render

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/namespaces"
)

// LsTree prints two forests like lsns --tree and lxkns: user namespaces
// by parent with the namespaces each owns beneath it, then pid namespaces
// by parent. With a filter, a node is printed when it or something below
// it matches, so that the path to a match stays visible.
func LsTree(w io.Writer, all []*model.Namespace, keep func(*model.Namespace) bool, users inspect.UserNames) error {
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
	users inspect.UserNames
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
		fmt.Fprintf(&b, " nprocs=%d pid=%d user=%s %q", ns.NProcs, ns.PID, t.users.Name(ns.UID), ns.Command)
	} else {
		fmt.Fprintf(&b, " nprocs=0 %s", holderText(ns))
	}
	fmt.Fprintf(&b, " [%s]", ns.Sources)
	return b.String()
}

// holderText says what holds a namespace no process is in, for the
// COMMAND column and the tree.
func holderText(ns *model.Namespace) string {
	switch {
	case len(ns.Threads) > 0:
		t := ns.Threads[0]
		return fmt.Sprintf("(thread %d of pid %d)", t.TID, t.PID)
	case len(ns.BindMounts) > 0:
		return "(bind mount " + ns.BindMounts[0].Path + ")"
	case len(ns.FDs) > 0:
		f := ns.FDs[0]
		return fmt.Sprintf("(fd %d of pid %d)", f.FD, f.PID)
	case len(ns.Sockets) > 0:
		f := ns.Sockets[0]
		return fmt.Sprintf("(socket fd %d of pid %d)", f.FD, f.PID)
	case ns.Sources&model.FromUnborn != 0:
		return "(for children, no process yet)"
	case ns.Sources&model.FromChildren != 0:
		return "(for children)"
	case ns.Sources&model.FromParent != 0:
		return "(parent only)"
	case ns.Sources&model.FromOwner != 0:
		return "(owner only)"
	case ns.Sources&model.FromListns != 0:
		return "(active per listns, holder not found)"
	}
	return ""
}

// LsTable prints ls's table: one row per namespace, with lsns(8)'s
// columns and nsinspect's.
func LsTable(w io.Writer, list []*model.Namespace, users inspect.UserNames) error {
	tw := NewTable(w)
	fmt.Fprintln(tw, "NS\tTYPE\tNPROCS\tPID\tPPID\tUSER\tID\tPARENT\tOWNER\tNETNSID\tSOURCES\tCOMMAND")
	for _, ns := range list {
		pid, ppid, usr, cmd := "-", "-", "-", holderText(ns)
		if ns.NProcs > 0 {
			pid, ppid, usr, cmd = strconv.Itoa(ns.PID), strconv.Itoa(ns.PPID), users.Name(ns.UID), ns.Command
		}
		netnsid := ""
		if ns.NetNSID >= 0 {
			netnsid = strconv.Itoa(ns.NetNSID)
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			ns.Ino, ns.Type.Name(), ns.NProcs, pid, ppid, usr, idOf(ns.NS),
			inoOf(ns.Parent), inoOf(ns.Owner), netnsid, ns.Sources, cmd)
	}
	return tw.Flush()
}

// sourceText names the source that ran, for the table's last line.
func sourceText(s string) string {
	switch s {
	case "bpf":
		return "bpf (the kernel's task list, read by BPF iterators)"
	case "proc":
		return "proc (/proc/PID/ns and friends)"
	case "listns":
		return "listns (/proc/PID/ns and friends, then the kernel's list of active namespaces)"
	}
	return s
}

// idOf is the NS_GET_ID column: "-" on a kernel that gives none.
func idOf(ns namespaces.NS) string {
	if ns.ID == 0 {
		return "-"
	}
	return strconv.FormatUint(ns.ID, 10)
}

func inoOf(ns *model.Namespace) string {
	if ns == nil {
		return "-"
	}
	return strconv.FormatUint(ns.Ino, 10)
}

// LsSummary is the table's last line: how many namespaces and processes,
// and the source that read them.
func LsSummary(w io.Writer, namespaces, processes int, source string) error {
	_, err := fmt.Fprintf(w, "\n%d namespaces, %d processes; source: %s\n", namespaces, processes, sourceText(source))
	return err
}
