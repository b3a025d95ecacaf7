package discover

import (
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/linux"
	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/procinfo"
)

// entry is a namespace the pass holds open. While fd is open the
// namespace's inode cannot be given to another namespace, which is what
// makes an inode read with readlink a valid key (see the package doc).
type entry struct {
	ns         *model.Namespace
	fd         int  // -1 for a namespace the BPF source saw in the kernel
	mountsRead bool // mountinfo of this mount namespace has been claimed
	// via is a task (pid, tid) seen in the namespace, through which an
	// entry without an fd can be opened (netnsIDs); zero for none.
	via [2]int
	// alt is a holder to open it through where no task is in it; nil
	// for none.
	alt *opener
}

// opener is a holder through which a namespace no task is in can be
// opened: process pid's fd (an nsfs file, or a socket made in the
// namespace), or its bind mount at path in pid's root.
type opener struct {
	pid, fd int
	socket  bool
	path    string
}

// registry maps nsfs inode numbers to the namespaces held open. All nsfs
// files live on one superblock, so the inode alone is unique among live
// namespaces.
type registry struct {
	mu    sync.Mutex
	byIno map[uint64]*entry
	order []*entry     // in discovery order, for the parent/owner walk
	held  map[int]bool // fds the registry owns, to skip in its own fd table
	// caller is Options.OwnFDs: fds of ours that are not holders either.
	caller map[int]bool
	// climbed is how many of order relatives has climbed from, and
	// deniedRelatives how many of its ioctls were refused.
	climbed, deniedRelatives int
}

func newRegistry() *registry {
	return &registry{byIno: make(map[uint64]*entry, 1024), held: make(map[int]bool, 1024)}
}

// own reports whether fd, an fd of the discovering process, is there only
// because nsinspect is looking: the registry's, or one the caller named.
// Read only once the workers are done, when held no longer grows.
func (r *registry) own(fd int) bool { return r.held[fd] || r.caller[fd] }

func (r *registry) lookup(ino uint64) *entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byIno[ino]
}

// errMoved means the file opened was not the namespace the link named a
// moment before: the process setns'd in between. The caller reads again.
var errMoved = errors.New("namespace link changed between readlink and open")

// adopt takes ownership of fd, an nsfs fd that should have inode ino (0:
// whatever it has), and returns the namespace's entry. If another worker
// registered the namespace first, fd is closed and theirs is returned.
func (r *registry) adopt(fd int, ino uint64, src model.Source) (*entry, error) {
	if ino == 0 {
		// From NS_GET_USERNS/NS_GET_PARENT: mostly a namespace already
		// held, which a stat tells without two more ioctls.
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return nil, err
		}
		if e := r.lookup(st.Ino); e != nil {
			unix.Close(fd)
			return e, nil
		}
	}
	ns, err := namespaces.FromFD(fd)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	if ino != 0 && ns.Ino != ino {
		unix.Close(fd)
		return nil, errMoved
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.byIno[ns.Ino]; e != nil {
		unix.Close(fd)
		if e.ns.ID != ns.ID {
			// Cannot happen while e.fd is open; a broken invariant must
			// not silently merge two namespaces.
			return nil, fmt.Errorf("nsfs inode %d held as id %d but opened as id %d", ns.Ino, e.ns.ID, ns.ID)
		}
		if src&(model.Hierarchy) == 0 {
			// Being some namespace's parent or owner is shown by that
			// namespace's Parent and Owner; as a source it means "found
			// only that way".
			e.ns.Sources |= src
		}
		return e, nil
	}
	e := &entry{ns: &model.Namespace{NS: ns, Sources: src, NetNSID: model.NetNSIDUnknown}, fd: fd}
	r.byIno[ns.Ino] = e
	r.order = append(r.order, e)
	r.held[fd] = true
	return e, nil
}

// open resolves a namespace by inode, opening dirfd/path only when the
// inode is new.
func (r *registry) open(dirfd int, path string, t namespaces.Type, ino uint64, src model.Source) (*entry, error) {
	if e := r.lookup(ino); e != nil {
		r.mark(e, src)
		return e, nil
	}
	fd, err := unix.Openat(dirfd, path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	e, err := r.adopt(fd, ino, src)
	if err == nil && e.ns.Type != t {
		return nil, fmt.Errorf("%s names a %s namespace but the kernel says %s", path, t.Name(), e.ns.Type.Name())
	}
	return e, err
}

// kernel registers a namespace the BPF source read in the kernel's own
// structs, without opening it: no fd holds it, and it needs none, since
// every reference to it came from the same instant of the same pass.
func (r *registry) kernel(ns namespaces.NS, src model.Source) *entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.byIno[ns.Ino]; e != nil {
		e.ns.Sources |= src
		return e
	}
	e := &entry{ns: &model.Namespace{NS: ns, Sources: src, NetNSID: model.NetNSIDUnknown}, fd: -1}
	r.byIno[ns.Ino] = e
	r.order = append(r.order, e)
	return e
}

func (r *registry) mark(e *entry, src model.Source) {
	r.mu.Lock()
	e.ns.Sources |= src
	r.mu.Unlock()
}

// claimMounts returns true exactly once per mount namespace: the caller
// then reads its mountinfo. release gives the claim back when the reading
// process died first, so that another process in the namespace reads it.
func (r *registry) claimMounts(e *entry) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.mountsRead {
		return false
	}
	e.mountsRead = true
	return true
}

func (r *registry) releaseMounts(e *entry) {
	r.mu.Lock()
	e.mountsRead = false
	r.mu.Unlock()
}

// relatives is the one climb of a pass: from every namespace found it
// asks NS_GET_USERNS (the owning user namespace) and, for pid
// namespaces, NS_GET_PARENT, adding the namespaces not seen yet, until
// nothing new turns up. For a user namespace both ioctls answer its
// parent (ioctl_ns(2): a user namespace is owned by its parent), so one
// call sets Parent and Owner alike (the rule is in the model package doc).
// It returns how many ioctls were refused for lack of privilege. A
// second call climbs only from the namespaces registered since the
// first (what listns added), and returns the refusals of both.
func (r *registry) relatives() int {
	for ; r.climbed < len(r.order); r.climbed++ {
		e := r.order[r.climbed]
		if e.fd < 0 {
			continue // the BPF source read its relatives with it
		}
		if e.ns.Type == namespaces.User {
			p, err := r.relative(e, linux.NsGetParent, model.FromParent)
			if err != nil && procinfo.IsDenied(err) {
				r.deniedRelatives++
			}
			e.ns.Parent, e.ns.Owner = p, p
			continue
		}
		if o, err := r.relative(e, linux.NsGetUserns, model.FromOwner); err == nil {
			e.ns.Owner = o
		} else if procinfo.IsDenied(err) {
			r.deniedRelatives++
		}
		if !e.ns.Type.Hierarchical() {
			continue
		}
		if p, err := r.relative(e, linux.NsGetParent, model.FromParent); err == nil {
			e.ns.Parent = p
		} else if procinfo.IsDenied(err) {
			r.deniedRelatives++
		}
	}
	return r.deniedRelatives
}

// hierarchySources sets the parent and owner sources of every source's
// namespaces by one rule, from the relations the pass recorded, whoever
// recorded them: a namespace that nothing else holds is "parent" when it
// is some namespace's Parent and "owner" when it owns a namespace of
// another type (a user namespace's Owner is its Parent, counted once).
// The climb's adopt marks what it reaches first, which depends on the
// order of the walk, and the BPF source reads the relations from the
// kernel without climbing, so neither can be left to say it.
func (r *registry) hierarchySources() {
	for _, e := range r.order {
		e.ns.Sources &^= model.Hierarchy
	}
	for _, e := range r.order {
		ns := e.ns
		if p := ns.Parent; p != nil && p.OnlyHierarchy() {
			p.Sources |= model.FromParent
		}
		if o := ns.Owner; o != nil && ns.Type != namespaces.User && o.OnlyHierarchy() {
			o.Sources |= model.FromOwner
		}
	}
}

// relative returns the namespace get(e.fd) names. The top of the hierarchy
// answers EPERM, which is "none", not a privilege problem.
func (r *registry) relative(e *entry, get func(int) (int, error), src model.Source) (*model.Namespace, error) {
	fd, err := get(e.fd)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EINVAL) {
			return nil, nil
		}
		return nil, err
	}
	o, err := r.adopt(fd, 0, src)
	if err != nil {
		return nil, err
	}
	return o.ns, nil
}

// close releases every namespace the pass held.
func (r *registry) close() {
	for _, e := range r.order {
		if e.fd >= 0 {
			unix.Close(e.fd)
		}
	}
	r.byIno, r.held, r.order = nil, nil, nil
}
