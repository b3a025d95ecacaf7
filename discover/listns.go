package discover

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/features"
	"github.com/nsinspect/nsinspect/internal/linux"
	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/namespaces"
)

// Listns is the kernel's own list of active namespaces (listns(2), Linux
// 6.19) beside a /proc walk that reads the tasks' links and the nsfs bind
// mounts but no fd table. listns names every namespace a task, an open
// nsfs fd, a bind mount, or being an active namespace's parent or owner
// keeps active, by id; the walk says which tasks are in each (NPROCS,
// the lowest PID, threads, zombies) and where each is mounted; a
// namespace the walk did not reach is opened by its id through an nsfs
// file handle (linux.OpenNSByID) and its owner and parent asked as for
// any other. One listed only by listns, and no namespace's parent or
// owner, is marked model.FromListns: held by an fd, most likely, which
// the /proc walk finds only by reading every fd of every process.
//
// What it lacks against Proc: the fd holders themselves (which pid, which
// fd: FDs is empty), and namespaces held only by sockets. A socket pins
// its network namespace (sk->sk_net) without making it active, so listns
// leaves such a namespace out (and its owner, when nothing else holds
// that), and this walk reads no socket; Proc finds both.
//
// Only a caller that may see every namespace gets the full list: the
// kernel's may_see_all_namespaces() (kernel/nscommon.c), CAP_SYS_ADMIN
// in the initial user namespace from the initial pid namespace. Any other
// caller gets no error but a filtered subset (the namespaces it is in or
// privileged over), so Discover decides by capability, never by errno,
// and refuses with ErrListnsFiltered rather than list a subset as if it
// were all.
type Listns struct{}

// Name is "listns".
func (Listns) Name() string { return "listns" }

// ErrListnsFiltered is matched by the error of a process that listns(2)
// would show only some of the namespaces (see Listns).
var ErrListnsFiltered = errors.New("listns(2) would list only some namespaces")

// ListnsFilteredError says why listns(2) would filter: what this process
// lacks of may_see_all_namespaces().
type ListnsFilteredError struct{ Why string }

func (e *ListnsFilteredError) Error() string {
	return "listns(2) would list only the namespaces this process is in or privileged over (" + e.Why + ")"
}

func (e *ListnsFilteredError) Is(target error) bool { return target == ErrListnsFiltered }

// Discover checks that the kernel has listns and that this process may
// see every namespace, walks /proc without fd tables, then adds what
// listns lists that the walk did not find. Every error it returns came
// before anything was recorded in p: one matching features.ErrMissing
// (no listns on this kernel) or ErrListnsFiltered.
func (Listns) Discover(p *Pass) error {
	if err := ListnsUsable(); err != nil {
		return err
	}
	p.noFDs = true
	defer func() { p.noFDs = false }()
	if err := (Proc{}).Discover(p); err != nil {
		return err
	}
	// After the walk: its fds hold only namespaces tasks were in, which
	// are active anyway, and a namespace it found is not opened again.
	ids, err := linux.Listns(0)
	if err != nil {
		return fmt.Errorf("listing the active namespaces: %w", err)
	}
	known := make(map[uint64]bool, len(p.reg.order))
	for _, e := range p.reg.order {
		known[e.ns.ID] = true
	}
	for _, id := range ids {
		if known[id] {
			continue
		}
		fd, err := linux.OpenNSByID(id)
		if err != nil {
			continue // inactive since listns ran: nothing holds it any more
		}
		e, err := p.reg.adopt(fd, 0, 0)
		if err != nil {
			continue
		}
		p.listed = append(p.listed, e)
	}
	return nil
}

// ListnsUsable returns nil where the Listns source can run: the kernel
// has listns(2) and this process may see every namespace. Its errors
// match features.ErrMissing or ErrListnsFiltered.
func ListnsUsable() error {
	if err := features.Missing(features.Listns, "--source listns"); err != nil {
		return err
	}
	if why := mayListAll(); why != "" {
		return &ListnsFilteredError{Why: why}
	}
	return nil
}

// listnsSources marks the namespaces only listns found that the
// hierarchy does not explain either (registry.hierarchySources ran).
func (p *Pass) listnsSources() {
	for _, e := range p.listed {
		if e.ns.Sources == 0 {
			e.ns.Sources = model.FromListns
		}
	}
}

// mayListAll tells why this process is not one the kernel shows every
// namespace (may_see_all_namespaces(): in the initial pid namespace and
// ns_capable(init_user_ns, CAP_SYS_ADMIN), which from a task holds only
// in the initial user namespace itself), "" when it is.
func mayListAll() string {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/ns/user", &st); err != nil {
		return "stat /proc/self/ns/user: " + err.Error()
	}
	if st.Ino != namespaces.ProcUserInitIno {
		return "not in the initial user namespace"
	}
	if init, err := namespaces.InInitialPIDNamespace("/proc"); err != nil {
		return err.Error()
	} else if !init {
		return "not in the initial pid namespace"
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return "capget: " + err.Error()
	}
	if data[unix.CAP_SYS_ADMIN/32].Effective&(1<<(unix.CAP_SYS_ADMIN%32)) == 0 {
		return "no CAP_SYS_ADMIN"
	}
	return ""
}
