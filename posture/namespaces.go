package posture

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/features"
	"github.com/nsinspect/nsinspect/internal/linux"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/procinfo"
)

// initIno is, per type, the inode of the kernel's initial namespace
// (namespaces.Proc*InitIno), its name in include/linux/proc_ns.h, and the
// kernel that fixed it, so that an inode equal to it is the initial
// namespace.
var initIno = map[namespaces.Type]struct {
	ino   uint64
	name  string
	since [2]int // the kernel that fixed it, when later than 5.6 (time namespaces)
}{
	namespaces.IPC:    {namespaces.ProcIPCInitIno, "PROC_IPC_INIT_INO", [2]int{}},
	namespaces.UTS:    {namespaces.ProcUTSInitIno, "PROC_UTS_INIT_INO", [2]int{}},
	namespaces.User:   {namespaces.ProcUserInitIno, "PROC_USER_INIT_INO", [2]int{}},
	namespaces.PID:    {namespaces.ProcPIDInitIno, "PROC_PID_INIT_INO", [2]int{}},
	namespaces.Cgroup: {namespaces.ProcCgroupInitIno, "PROC_CGROUP_INIT_INO", [2]int{}},
	namespaces.Time:   {namespaces.ProcTimeInitIno, "PROC_TIME_INIT_INO", [2]int{}},
	// Until Linux 6.17 the initial net and mount namespaces were numbered
	// like any other (Debian's 6.1 and 6.12 do so). Christian Brauner's
	// "netns: use stable inode number for initial mount ns" (9b0240b3ccc3)
	// and "mntns: use stable inode number for initial mount ns", queued in
	// June 2025 for the 6.17 merge window, gave them these.
	namespaces.Net:   {namespaces.ProcNetInitIno, "PROC_NET_INIT_INO", [2]int{6, 17}},
	namespaces.Mount: {namespaces.ProcMntInitIno, "PROC_MNT_INIT_INO", [2]int{6, 17}},
}

// initialCaveat is added to every proof made against the initial
// namespaces.
const initialCaveat = " (the host's own only if the host runs in the kernel's initial namespaces)"

// nsfsMagic is NSFS_MAGIC of include/uapi/linux/magic.h.
const nsfsMagic = 0x6e736673

// nsLink is one /proc/PID/ns link, held open while it is compared so its
// inode number cannot be reused meanwhile.
type nsLink struct {
	text     string
	dev, ino uint64
	id       uint64 // NS_GET_ID, 0 on a kernel without it
	nsfs     bool
	evidence []Evidence
}

func openLink(p *procinfo.Proc, dir, name string) (nsLink, int, error) {
	var l nsLink
	text, err := p.Readlink("ns/" + name)
	if err != nil {
		return l, -1, err
	}
	l.text = text
	path := dir + "/ns/" + name
	l.evidence = append(l.evidence, Evidence{Call: "readlink " + path, Text: text})
	fd, err := p.Openat("ns/"+name, unix.O_RDONLY)
	if err != nil {
		return l, -1, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return l, -1, fmt.Errorf("fstat %s: %w", path, err)
	}
	var fs unix.Statfs_t
	if err := unix.Fstatfs(fd, &fs); err != nil {
		unix.Close(fd)
		return l, -1, fmt.Errorf("fstatfs %s: %w", path, err)
	}
	l.dev, l.ino, l.nsfs = st.Dev, st.Ino, fs.Type == nsfsMagic
	if l.nsfs && features.Has(features.NSGetID) {
		if l.id, err = linux.NsGetID(fd); err != nil {
			unix.Close(fd)
			return l, -1, fmt.Errorf("%s: %w", path, err)
		}
	}
	l.evidence = append(l.evidence, Evidence{Call: fmt.Sprintf("stat %s: dev %d:%d ino %d", path, unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)})
	return l, fd, nil
}

// readNamespace compares one link of the target with the reference's, or,
// with ref nil, with the kernel's initial namespace of its type.
func readNamespace(target, ref *procinfo.Proc, link namespaces.Link) (Namespace, error) {
	n := Namespace{Evidence: []Evidence{}}
	t, tfd, err := openLink(target, procDir(target), link.Name)
	if err != nil {
		return n, err
	}
	defer unix.Close(tfd)
	n.Target, n.NS, n.ID = t.text, t.ino, t.id
	n.Evidence = append(n.Evidence, t.evidence...)
	if ref != nil {
		r, rfd, err := openLink(ref, procDir(ref), link.Name)
		if err != nil {
			return n, fmt.Errorf("reference: %w", err)
		}
		defer unix.Close(rfd)
		n.Reference, n.ReferenceNS, n.ReferenceID = r.text, r.ino, r.id
		n.Evidence = append(n.Evidence, r.evidence...)
		n.Shared, n.Proven = t.dev == r.dev && t.ino == r.ino, true
		if n.Shared {
			n.Why = fmt.Sprintf("same nsfs inode (dev %d:%d ino %d) as the reference pid %d", unix.Major(t.dev), unix.Minor(t.dev), t.ino, ref.PID)
		} else {
			n.Why = fmt.Sprintf("inode %d differs from the reference pid %d's %d", t.ino, ref.PID, r.ino)
		}
		return n, nil
	}
	n.Shared, n.Proven, n.Why = judgeInitial(link.Type, t, features.ReleaseAtLeast)
	return n, nil
}

// judgeInitial decides, from a link alone, whether it is the kernel's
// initial namespace of its type. atLeast is features.ReleaseAtLeast (a
// parameter for the tests).
func judgeInitial(typ namespaces.Type, l nsLink, atLeast func(major, minor int) bool) (shared, proven bool, why string) {
	init, ok := initIno[typ]
	if !ok {
		return false, false, "no fixed inode number is known for " + typ.Name() + " namespaces"
	}
	if !l.nsfs {
		return false, false, fmt.Sprintf("the link's inode is not on nsfs (dev %d:%d): cannot compare it with %s", unix.Major(l.dev), unix.Minor(l.dev), init.name)
	}
	if l.ino == init.ino {
		return true, true, fmt.Sprintf("inode %d is %s: the kernel's initial %s namespace", l.ino, init.name, typ.Name()) + initialCaveat
	}
	if init.since != [2]int{} && !atLeast(init.since[0], init.since[1]) {
		return false, false, fmt.Sprintf("inode %d is not %s (%d), but that number is given only since Linux %d.%d: before it the initial %s namespace is numbered like any other, so this proves nothing",
			l.ino, init.name, init.ino, init.since[0], init.since[1], typ.Name())
	}
	return false, true, fmt.Sprintf("inode %d is not %s (%d): not the kernel's initial %s namespace", l.ino, init.name, init.ino, typ.Name()) + initialCaveat
}

func procDir(p *procinfo.Proc) string {
	d := fmt.Sprintf("%s/%d", procinfo.Root, p.PID)
	if p.IsThread() {
		d += fmt.Sprintf("/task/%d", p.TID)
	}
	return d
}
