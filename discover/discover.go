package discover

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/procinfo"
)

// Options tune a pass. The zero value reads /proc with GOMAXPROCS workers
// and records namespaces only.
type Options struct {
	Workers int    // 0: runtime.GOMAXPROCS(0)
	Proc    string // procfs mount point, "" for /proc
	// Tasks records every task (each thread of each process, kernel
	// threads included) with its comm, ppid, state and namespaces, for
	// the views that group or draw tasks. Without it a pass reads stat and
	// cmdline only for each namespace's lowest PID, and thread links only
	// of multi-threaded processes, which is what ls needs.
	Tasks bool
	// OwnFDs are fds of the calling process that hold namespaces for the
	// caller's own use, such as a target it pinned before the pass (ls -p
	// does). Like the pass's own, they exist only because nsinspect is
	// looking and are not reported as holders.
	OwnFDs []int
	// Objects asks for each task's kernel objects (model.Task.Objects:
	// which struct nsproxy it points to, and the rest), which only the
	// BPF source reads: Auto then runs BPF wherever it can, whatever the
	// host's size.
	Objects bool
}

// procRoot is where procfs is mounted for the pass.
func (p *Pass) procRoot() string {
	if p.opt.Proc == "" {
		return "/proc"
	}
	return p.opt.Proc
}

// A Source finds namespaces, their holders and tasks, and records them in
// a Pass. Sources live in this package because they share the pass's
// registry, whose identity rules (see the package doc) make every source's
// findings comparable: Proc is the /proc walk; a BPF task iterator is the
// next one.
type Source interface {
	Name() string
	Discover(p *Pass) error
}

// Pass is one discovery run: the registry of namespaces held open, and
// what the sources found, merged when they are done.
type Pass struct {
	opt    Options
	reg    *registry
	found  []*findings
	denied model.Denied
	// source and note are model.Model's Source and Note: what Auto
	// decided, and the listns source's filtered view; other sources
	// leave them empty.
	source, note string
	// nsfsDev is the device of the nsfs superblock, on which every
	// namespace's inode lives (0 if it could not be learnt).
	nsfsDev uint64
	socks   *netSockets
	// listed are the namespaces only listns found (see listnsSources).
	listed []*entry
}

// findings is what one reader (a worker of a source) learned, kept to
// itself until the pass merges it, so that readers share only the
// registry.
type findings struct {
	aggs   map[*entry]*agg
	holds  []hold
	tasks  []*model.Task
	denied model.Denied
	procs  int
}

func newFindings() *findings { return &findings{aggs: make(map[*entry]*agg, 256)} }

// agg is what one reader learned about the processes in one namespace.
type agg struct {
	nprocs, zombies, pid, ppid int
	uid                        uint32
	cmd                        string
}

// hold is one thread, fd, socket or bind mount found holding a namespace.
type hold struct {
	e      *entry
	thread *model.TaskRef
	fd     *model.FD
	socket *model.FD
	mount  *model.BindMount
}

// same reports whether h and o are one fd or socket holder: the same fd
// number on the same namespace, seen in a leader's table and in a
// thread's copy of it.
func (h hold) same(o hold) bool {
	switch {
	case h.e != o.e:
		return false
	case h.fd != nil && o.fd != nil:
		return *h.fd == *o.fd
	case h.socket != nil && o.socket != nil:
		return *h.socket == *o.socket
	}
	return false
}

// Discover runs one pass over /proc.
func Discover(opt Options) (*model.Model, error) { return Run(opt, Proc{}) }

// Run runs one pass with the given sources, then climbs the hierarchy once
// from every namespace found (NS_GET_USERNS, and NS_GET_PARENT for pid and
// user namespaces) until nothing new turns up. It fails only when a source
// cannot run at all; what single tasks hide is counted in Denied.
func Run(opt Options, sources ...Source) (*model.Model, error) {
	p := &Pass{opt: opt, reg: newRegistry(), socks: newNetSockets()}
	p.nsfsDev, _ = nsfsDev(p.procRoot())
	p.reg.caller = make(map[int]bool, len(opt.OwnFDs))
	for _, fd := range opt.OwnFDs {
		p.reg.caller[fd] = true
	}
	defer func() { p.reg.close() }() // Auto may start the pass over
	for _, s := range sources {
		if err := s.Discover(p); err != nil {
			return nil, fmt.Errorf("discovering namespaces (%s): %w", s.Name(), err)
		}
	}
	m := &model.Model{Source: p.source, Note: p.note}
	if m.Source == "" {
		names := make([]string, len(sources))
		for i, s := range sources {
			names[i] = s.Name()
		}
		m.Source = strings.Join(names, "+")
	}
	m.Denied.Relatives = p.reg.relatives()
	p.merge(m)
	p.reg.hierarchySources()
	p.listnsSources()
	netnsIDs(p.reg)
	ownMounts(p)
	for _, e := range p.reg.order {
		m.Namespaces = append(m.Namespaces, e.ns)
	}
	slices.SortFunc(m.Namespaces, func(a, b *model.Namespace) int {
		return cmp.Or(cmp.Compare(a.Ino, b.Ino), cmp.Compare(a.Type, b.Type))
	})
	slices.SortFunc(m.Tasks, func(a, b *model.Task) int {
		switch {
		case a.PID != b.PID:
			return cmp.Compare(a.PID, b.PID)
		case a.IsThread() != b.IsThread(): // the leader first
			if a.IsThread() {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.TID, b.TID)
	})
	return m, nil
}

// merge folds the readers' per-namespace counts, holders and tasks into m.
func (p *Pass) merge(m *model.Model) {
	for _, f := range p.found {
		m.Processes += f.procs
		m.Denied.Add(f.denied)
		m.Tasks = append(m.Tasks, f.tasks...)
		for e, a := range f.aggs {
			ns := e.ns
			if a.nprocs > a.zombies {
				ns.Sources |= model.FromProcess
			}
			ns.NProcs += a.nprocs
			ns.Zombies += a.zombies
			if a.pid != 0 && (ns.PID == 0 || a.pid < ns.PID) {
				ns.PID, ns.PPID, ns.UID, ns.Command = a.pid, a.ppid, a.uid, a.cmd
			}
		}
		for _, h := range f.holds {
			switch {
			case h.thread != nil:
				h.e.ns.Threads = append(h.e.ns.Threads, *h.thread)
			case h.fd != nil:
				h.e.ns.FDs = append(h.e.ns.FDs, *h.fd)
			case h.socket != nil:
				h.e.ns.Sockets = append(h.e.ns.Sockets, *h.socket)
			case h.mount != nil:
				h.e.ns.BindMounts = append(h.e.ns.BindMounts, *h.mount)
			}
		}
	}
	for _, e := range p.reg.order {
		ns := e.ns
		slices.SortFunc(ns.Threads, func(a, b model.TaskRef) int { return cmp.Or(cmp.Compare(a.PID, b.PID), cmp.Compare(a.TID, b.TID)) })
		slices.SortFunc(ns.FDs, func(a, b model.FD) int { return cmp.Or(cmp.Compare(a.PID, b.PID), cmp.Compare(a.FD, b.FD)) })
		slices.SortFunc(ns.Sockets, func(a, b model.FD) int { return cmp.Or(cmp.Compare(a.PID, b.PID), cmp.Compare(a.FD, b.FD)) })
		slices.SortFunc(ns.BindMounts, func(a, b model.BindMount) int {
			return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.MntNSIno, b.MntNSIno))
		})
	}
}

// netnsIDs asks the kernel (RTM_GETNSID) which nsid our network namespace
// assigned to each network namespace found, or that it assigned none.
// Failure leaves model.NetNSIDUnknown: the id is an extra, not worth
// failing a listing for.
func netnsIDs(reg *registry) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return
	}
	defer h.Close()
	for _, e := range reg.order {
		if e.ns.Type != namespaces.Net {
			continue
		}
		fd := e.fd
		if fd < 0 {
			if fd = openVia(e); fd < 0 {
				continue
			}
			defer unix.Close(fd)
		}
		if id, err := h.GetNetNsIdByFd(fd); err == nil && id >= model.NetNSIDUnassigned {
			e.ns.NetNSID = id // -1 is NETNSA_NSID_NOT_ASSIGNED
		}
	}
}

// ownMounts sets each namespace's NSFS from the nsfs mounts in our own
// /proc/self/mountinfo, in its order and each mount point once, as lsns(8)
// reads its NSFS column: the paths as this process resolves them, whatever
// process the sources read this mount namespace through. A mount of a
// namespace the pass did not find (mounted since) is left out; a
// mountinfo we cannot read leaves NSFS empty, as BindMounts still says.
func ownMounts(p *Pass) {
	b, err := os.ReadFile(p.procRoot() + "/self/mountinfo")
	if err != nil {
		return
	}
	for _, mnt := range procinfo.ParseNSFSMounts(b) {
		e := p.reg.byIno[mnt.Ino]
		if e == nil || e.ns.Type != mnt.Type || slices.Contains(e.ns.NSFS, mnt.MountPoint) {
			continue
		}
		e.ns.NSFS = append(e.ns.NSFS, mnt.MountPoint)
	}
}
