package discover

import (
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/features"
	"github.com/nsinspect/nsinspect/internal/linux"
	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/namespaces"
)

// Listns is the /proc walk (Proc: tasks, threads, fd tables, sockets and
// nsfs bind mounts, with every holder it finds) followed by the kernel's
// own list of active namespaces (listns(2), Linux 6.19), from which it
// adds each namespace the walk did not reach, opened by its id through
// an nsfs file handle (linux.OpenNSByID) and climbed from like any
// other. A namespace found by both keeps the walk's holders; one listed
// only by listns, and no namespace's parent or owner, is marked
// model.FromListns: active, but its holder not found (an fd of a process
// the walk was refused or did not see, a bind mount in a mount namespace
// no task is in).
//
// listns does not list everything the walk finds: a socket pins its
// network namespace (sk->sk_net) without making it active, so a network
// namespace held only by sockets is found by the walk's socket pass
// alone (the kernel's selftest siocgskns_listns_visibility).
//
// Only a caller that may see every namespace gets listns's full list:
// the kernel's may_see_all_namespaces() (kernel/nscommon.c),
// CAP_SYS_ADMIN in the initial user namespace from the initial pid
// namespace. Any other caller gets no error but a filtered subset (the
// namespaces it is in or privileged over), which Discover adds to the
// walk all the same and says so in the model's Note (decided by
// capability, never by errno).
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

// Discover checks that the kernel has listns, walks /proc, then adds what
// listns lists that the walk did not find. Every error it returns came
// before anything was recorded in p, but one of listns(2) itself: one
// matching features.ErrMissing means no listns on this kernel.
func (Listns) Discover(p *Pass) error {
	if err := features.Missing(features.Listns, "--source listns"); err != nil {
		return err
	}
	if err := (Proc{}).Discover(p); err != nil {
		return err
	}
	added, unopened, err := p.addListed()
	if err != nil {
		return err
	}
	if why := mayListAll(); why != "" {
		p.note = filteredNote(why, added, unopened)
	}
	return nil
}

// filteredNote is the one note of a listns pass that listns showed only
// a subset.
func filteredNote(why string, added, unopened int) string {
	s := "listns(2) showed a filtered view (" + why + "): only the namespaces this process is in or privileged over; the /proc walk found the rest it could read"
	if added+unopened > 0 {
		s += "; listns added " + strconv.Itoa(added) + " the walk missed"
		if unopened > 0 {
			s += " and listed " + strconv.Itoa(unopened) + " it may not open"
		}
	}
	return s
}

// ListnsUsable returns nil where listns(2) gives the whole list: the
// kernel has it and this process may see every namespace. Its errors
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

// addListed calls listns(2) (one call per 512 namespaces) and adds every
// active namespace the pass has not found, opened through an nsfs file
// handle. It returns how many it added and how many it could not open
// for want of privilege (a filtered caller may list a namespace it owns
// but is not in); one that went inactive since listns answered is
// neither. Called once the walk is done: the pass's own fds hold only
// namespaces it found, and a namespace it found is not opened again. It
// climbs the hierarchy first (Run climbs only from what it adds), so
// that a parent or owner the climb reaches is not counted as missed.
func (p *Pass) addListed() (added, unopened int, err error) {
	p.reg.relatives()
	ids, err := linux.Listns(0)
	if err != nil {
		return 0, 0, fmt.Errorf("listing the active namespaces: %w", err)
	}
	known := make(map[uint64]struct{}, len(p.reg.order))
	for _, e := range p.reg.order {
		known[e.ns.ID] = struct{}{}
	}
	for _, id := range ids {
		if _, ok := known[id]; ok {
			continue
		}
		fd, err := linux.OpenNSByID(id)
		if err != nil {
			if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
				unopened++
			}
			continue // or inactive since listns ran: nothing holds it any more
		}
		n := len(p.reg.order)
		e, err := p.reg.adopt(fd, 0, 0)
		if err != nil || len(p.reg.order) == n {
			continue // gone, or known by its inode (a kernel without ids)
		}
		p.listed = append(p.listed, e)
		added++
	}
	return added, unopened, nil
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
