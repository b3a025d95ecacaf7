package clone

import (
	"fmt"
	"strings"
	"sync"

	"github.com/nsinspect/nsinspect/clone/report"
	"github.com/nsinspect/nsinspect/procinfo"
)

// snapshot reads one side on its own, with its namespace views.
func snapshot(p *procinfo.Proc) *report.Side {
	s := snapshotTask(p, true)
	readNSViews(s, p, nsViewAll)
	return s
}

// snapshotPair reads both sides at once: the per-task files of each in
// parallel, then (with views) the views of a namespace (mounts, links,
// hostname, SysV IPC) once per distinct namespace, since a namespace that
// parent and child share looks the same from both.
func snapshotPair(parent, child *procinfo.Proc, views bool) (*report.Side, *report.Side) {
	var ps, cs *report.Side
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
		a, okA := ps.NSLink(v.link)
		b, okB := cs.NSLink(v.link)
		if !okA || !okB || !a.Same(b) {
			own |= v.view
		}
	}
	wg.Add(1)
	go func() { defer wg.Done(); readNSViews(cs, child, own) }()
	readNSViews(ps, parent, nsViewAll)
	wg.Wait()
	copyNSViews(cs, ps, nsViewAll&^own)
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

// snapshotTask reads what belongs to the task itself through procinfo's
// one snapshot: its status and namespace links, and when full also its
// fds, id maps, cgroup, time offsets, cwd and root.
func snapshotTask(p *procinfo.Proc, full bool) *report.Side {
	var parts procinfo.Part
	if full {
		parts = procinfo.PartFDs | procinfo.PartIDMaps | procinfo.PartCgroup | procinfo.PartTimens | procinfo.PartFS
	}
	s := &report.Side{PID: p.PID, TID: p.TID}
	t, err := p.Snapshot(parts)
	if err != nil {
		// A parked side that cannot be read: say so, and let the
		// comparison that follows fail on it with the same cause.
		s.Unavailable = append(s.Unavailable, procinfo.Missing{Field: "status", Reason: err.Error()})
		return s
	}
	st := t.Status
	s.Comm, s.State, s.PPid, s.Tgid, s.NSpid, s.Threads = st.Name, st.State, st.PPid, st.Tgid, st.NSpid, st.Threads
	if st.Umask >= 0 {
		s.Umask = fmt.Sprintf("%04o", st.Umask)
	}
	s.SigCgt, s.SigBlk = fmt.Sprintf("%016x", st.SigCgt), fmt.Sprintf("%016x", st.SigBlk)
	for _, l := range t.Namespaces {
		if l.Err == nil {
			s.Namespaces = append(s.Namespaces, report.NSEntry{Link: l.Link.Name, ID: l.NS.ID, Ino: l.NS.Ino})
		}
	}
	for _, f := range t.FDs {
		s.FDs = append(s.FDs, report.FDEntry{FD: f.Num, Kind: string(f.Kind), Target: f.Link})
	}
	s.UIDMap, s.GIDMap, s.Cgroup = t.UIDMap, t.GIDMap, t.Cgroups
	s.TimensOffsets, s.Cwd, s.Root = t.TimensOffsets, t.Cwd, t.Root
	s.Unavailable = append(s.Unavailable, t.Missing...)
	return s
}

// readNSViews reads the selected namespace views through p.
func readNSViews(s *report.Side, p *procinfo.Proc, which nsView) {
	var err error
	if which&viewMounts != 0 {
		mounts, err := p.MountInfo()
		note(s, "mountinfo", err)
		for _, m := range mounts {
			s.Mounts = append(s.Mounts, report.Mount{ID: m.ID, MountPoint: m.MountPoint, FSType: m.FSType, Source: m.Source, Propagation: propagation(m.Optional)})
		}
	}
	if which&viewNet != 0 {
		s.Net, err = netLinks(p)
		note(s, "net", err)
	}
	if which&viewUTS != 0 {
		s.Hostname, err = hostnameOf(p)
		note(s, "hostname", err)
	}
	if which&viewIPC != 0 {
		s.IPC, err = ipcOf(p)
		note(s, "sysvipc", err)
	}
}

// copyNSViews takes the selected views from a task in the same namespaces.
func copyNSViews(s, from *report.Side, which nsView) {
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

// note records a view that could not be read, as procinfo records a
// field: named, with the reason.
func note(s *report.Side, what string, err error) {
	if err != nil {
		s.Unavailable = append(s.Unavailable, procinfo.Missing{Field: what, Reason: err.Error()})
	}
}

func propagation(optional []string) string {
	if len(optional) == 0 {
		return "private"
	}
	return strings.Join(optional, " ")
}
