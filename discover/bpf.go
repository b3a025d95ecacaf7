package discover

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/bpfiter"
	"github.com/nsinspect/nsinspect/internal/linux"
	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/procinfo"
)

// BPF is the kernel's own task list, read by bpfiter's iterators in one
// pass over every task (threads, kernel threads and tasks whose /proc
// links even root may not open included) and every fd table. The
// namespaces, their owners and parents come from the kernel's structs
// (see bpfiter); /proc is read only for what those do not hold: the
// command line and /proc/PID owner of each namespace's lowest PID, the
// nsfs bind mounts of each mount namespace, and with Options.Tasks the
// affinity of kernel threads.
//
// A long-running caller (a server) sets Iterators to keep the programs
// loaded between passes, which saves the load's cost (decoding the
// kernel's BTF, CO-RE relocation and verification: most of a one-shot
// pass) on every pass after the first.
type BPF struct {
	Iterators *bpfiter.Iterators // nil: load for this pass, unload after
}

// Name is "bpf".
func (BPF) Name() string { return "bpf" }

// Discover runs the iterators. Every error it returns came before
// anything was recorded in p; one wrapping bpfiter.ErrUnavailable means BPF
// cannot run here.
func (s BPF) Discover(p *Pass) error {
	b, err := readKernel(p, s.Iterators)
	if err != nil {
		return err
	}
	b.record()
	return nil
}

// readKernel does everything of a BPF pass that can fail: it loads and
// runs the iterators and takes the measures the records are read with.
func readKernel(p *Pass, it *bpfiter.Iterators) (*bpfPass, error) {
	if it == nil {
		var err error
		if it, err = bpfiter.Load(); err != nil {
			return nil, err
		}
		defer it.Close()
	}
	snap, err := it.Snapshot(true)
	if err != nil {
		return nil, err
	}
	dev, err := nsfsDev("/proc")
	if err != nil {
		return nil, err
	}
	off, err := startOffset(snap.Tasks)
	if err != nil {
		return nil, err
	}
	return &bpfPass{p: p, snap: snap, dev: dev, off: off, f: newFindings()}, nil
}

// record turns the snapshot into the pass's findings.
func (b *bpfPass) record() {
	b.namespaces()
	b.tasks()
	b.fds()
	b.mounts()
	b.openers()
	b.p.found = append(b.p.found, b.f)
}

// openers gives each namespace that no task is in a holder to open it
// through (openVia), so that what is asked of an open namespace (its
// nsid) is asked of it as the /proc walk, which holds it, asks.
func (b *bpfPass) openers() {
	for _, h := range b.f.holds {
		e := h.e
		if e.via != [2]int{} || e.alt != nil {
			continue
		}
		switch {
		case h.fd != nil:
			e.alt = &opener{pid: h.fd.PID, fd: h.fd.FD}
		case h.socket != nil:
			e.alt = &opener{pid: h.socket.PID, fd: h.socket.FD, socket: true}
		case h.mount != nil:
			e.alt = &opener{pid: h.mount.PID, path: h.mount.Path}
		}
	}
}

// nsfsDev is the device of the nsfs superblock, which every namespace's
// inode lives on: what namespaces.FromFD puts in NS.Dev.
func nsfsDev(proc string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(proc+"/self/ns/net", &st); err != nil {
		return 0, fmt.Errorf("stat /proc/self/ns/net for the nsfs device: %w", err)
	}
	return st.Dev, nil
}

type bpfPass struct {
	p    *Pass
	snap *bpfiter.Snapshot
	dev  uint64
	off  int64 // startOffset
	f    *findings
	byIn map[uint64]*entry
	// mntPIDs are the live leaders of each mount namespace in ascending
	// PID order: whom mounts may read its mountinfo through.
	mntPIDs map[*entry][]int
}

func (b *bpfPass) ns(ref bpfiter.NSRef) *entry {
	if ref.Ino == 0 {
		return nil
	}
	return b.byIn[ref.Ino]
}

// namespaces registers every namespace the iterators met and links each to
// its owner and parent.
func (b *bpfPass) namespaces() {
	b.byIn = make(map[uint64]*entry, len(b.snap.Namespaces))
	for ino, n := range b.snap.Namespaces {
		b.byIn[ino] = b.p.reg.kernel(namespaces.NS{Type: n.Type, ID: n.ID, Ino: n.Ino, Dev: b.dev}, 0)
	}
	for ino, n := range b.snap.Namespaces {
		e := b.byIn[ino]
		if o := b.byIn[n.Owner]; o != nil {
			e.ns.Owner = o.ns
		}
		if n.Type.Hierarchical() {
			if pa := b.byIn[n.Parent]; pa != nil {
				e.ns.Parent = pa.ns
			}
		}
	}
}

// tasks folds the task records into per-namespace counts and holders, as
// the /proc walk does (see procworker.go), and records tasks when asked.
func (b *bpfPass) tasks() {
	leaders := make(map[int]*bpfiter.Task, len(b.snap.Tasks))
	for i := range b.snap.Tasks {
		t := &b.snap.Tasks[i]
		if t.TID == t.TGID && t.TGID != 0 {
			leaders[t.TGID] = t
		}
	}
	// Without /proc the fallbacks below take the kernel's own fields.
	procfd, _ := unix.Open("/proc", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if procfd >= 0 {
		defer unix.Close(procfd)
	}
	w := newWorker(b.p, procfd)
	// The lowest PID of each namespace, found first, so that its identity
	// is read once.
	lowest := map[*entry]*bpfiter.Task{}
	b.mntPIDs = map[*entry][]int{}
	for i := range b.snap.Tasks {
		t := &b.snap.Tasks[i]
		if t.TGID == 0 {
			continue // not visible from our pid namespace
		}
		var links [10]*entry
		for li, ref := range t.NS {
			links[li] = b.ns(ref)
			if links[li] != nil && links[li].via == [2]int{} {
				links[li].via = [2]int{t.TGID, t.TID}
			}
		}
		zombie := t.State == 'Z' || t.State == 'X'
		if t.TID != t.TGID {
			if l := leaders[t.TGID]; l != nil {
				for li, e := range links {
					if e != nil && e != b.ns(l.NS[li]) {
						b.p.reg.mark(e, model.FromThread)
						b.f.holds = append(b.f.holds, hold{e: e, thread: &model.TaskRef{PID: t.TGID, TID: t.TID}})
					}
				}
			}
			b.task(w, t, &links)
			continue
		}
		b.f.procs++
		b.task(w, t, &links)
		if mnt := links[mntLink]; mnt != nil && !zombie {
			b.mntPIDs[mnt] = append(b.mntPIDs[mnt], t.TGID)
		}
		for li, e := range links {
			if e == nil {
				continue
			}
			if j := forChildren[li]; j >= 0 {
				if e != links[j] {
					b.p.reg.mark(e, model.FromChildren)
				}
				continue
			}
			a := b.f.aggs[e]
			if a == nil {
				a = &agg{}
				b.f.aggs[e] = a
			}
			a.nprocs++
			if zombie {
				a.zombies++
				b.p.reg.mark(e, model.FromZombie)
			}
			if lo := lowest[e]; lo == nil || t.TGID < lo.TGID {
				lowest[e] = t
			}
		}
	}
	// Identity (ppid, /proc/PID owner, command line) of each lowest PID,
	// read from /proc and kept only if the process there is the one the
	// iterator saw (same start time); else the kernel's own fields.
	ids := map[int]*identity{}
	for e, t := range lowest {
		id, ok := ids[t.TGID]
		if !ok {
			id = b.identify(w, t, b.off)
			ids[t.TGID] = id
		}
		a := b.f.aggs[e]
		a.pid, a.ppid, a.uid, a.cmd = t.TGID, id.ppid, id.uid, id.cmd
	}
}

// nsPerTick is nanoseconds per USER_HZ clock tick (100 Hz on every
// architecture Linux has), the unit of /proc/PID/stat's starttime.
const nsPerTick = 1e9 / 100

// startOffset is how far /proc/PID/stat's starttime is from the
// iterator's start_boottime in ticks: 0 unless we run in a time namespace
// with a boottime offset. It is measured on our own process.
func startOffset(tasks []bpfiter.Task) (int64, error) {
	self := os.Getpid()
	for i := range tasks {
		if tasks[i].TID == self {
			b, err := os.ReadFile("/proc/self/stat")
			if err != nil {
				return 0, fmt.Errorf("reading /proc/self/stat: %w", err)
			}
			st, err := procinfo.ParseStat(string(b))
			if err != nil {
				return 0, err
			}
			return int64(st.StartTime) - int64(tasks[i].StartBoottime/nsPerTick), nil
		}
	}
	return 0, fmt.Errorf("the task iterator did not see nsinspect itself (pid %d): its pid numbers cannot be trusted", self)
}

// identify reads t's identity from /proc, or takes the kernel's fields when
// the process there is not t any more.
func (b *bpfPass) identify(w *worker, t *bpfiter.Task, off int64) *identity {
	fallback := &identity{ppid: t.PPID, uid: t.EUID, cmd: t.Comm}
	dfd, err := openDir(w.procfd, strconv.Itoa(t.TGID)+"/ns")
	if err != nil {
		return fallback
	}
	defer unix.Close(dfd)
	id := w.identify(dfd)
	if id == nil || int64(id.start)-int64(t.StartBoottime/nsPerTick) != off {
		return fallback // exited, or its PID went to another process
	}
	return id
}

// task records t in the model when the pass records tasks.
func (b *bpfPass) task(w *worker, t *bpfiter.Task, links *[10]*entry) {
	if !b.p.opt.Tasks {
		return
	}
	n := len(namespaces.Links)
	mt := &model.Task{
		PID: t.TGID, TID: t.TID, PPID: t.PPID, Comm: t.Comm, State: t.State, Kernel: t.Kernel(),
		NS: make([]*model.Namespace, n), Missing: make([]string, n),
		Objects: slices.Clone(t.Obj[:]), UID: t.UID, EUID: t.EUID,
	}
	for i := range n {
		switch {
		case links[i] != nil:
			mt.NS[i] = links[i].ns
		case mt.Zombie():
			mt.Missing[i] = zombieWhy
		default:
			mt.Missing[i] = "the kernel's task has no such namespace (nsproxy released at exit)"
		}
	}
	if mt.Kernel {
		kthreadProc(w, t, mt)
	}
	b.f.tasks = append(b.f.tasks, mt)
}

// pidForChildren is the index of "pid_for_children" in namespaces.Links.
var pidForChildren = namespaces.LinkIndex("pid_for_children")

// noInitWhy is why the /proc walk shows a live task without
// pid_for_children: the link answers ENOENT while the pid namespace has no
// init, and before Linux 6.11 no pidfd ioctl opens it either (the BPF
// source reads it from the task's nsproxy).
const noInitWhy = "unshare(CLONE_NEWPID) made a pid namespace that has no init yet (no child forked): /proc shows none (pidns_for_children_get), and this kernel has no PIDFD_GET_PID_FOR_CHILDREN_NAMESPACE (Linux 6.11)"

// kthreadProc reads from /proc what the kernel keeps outside task_struct
// for a kernel thread: Cpus_allowed_list, and the name /proc prints, which
// is longer than the 15 bytes of task->comm (the kthread's full name, or a
// workqueue worker's "kworker/0:1-events"). It checks that /proc shows the
// same kernel thread: its name must begin with the comm the iterator read.
func kthreadProc(w *worker, t *bpfiter.Task, mt *model.Task) {
	dfd, err := openDir(w.procfd, strconv.Itoa(t.TGID)+"/task/"+strconv.Itoa(t.TID)+"/ns")
	if err != nil {
		return
	}
	defer unix.Close(dfd)
	b, err := readFile(dfd, "../stat", &w.fileBuf)
	if err != nil {
		return
	}
	st, err := procinfo.ParseStat(string(b))
	if err != nil || !st.IsKthread() || !strings.HasPrefix(st.Comm, t.Comm) {
		return
	}
	mt.Comm = st.Comm
	if b, err = readFile(dfd, "../status", &w.fileBuf); err != nil {
		return
	}
	if s, err := procinfo.ParseStatus(bytes.NewReader(b)); err == nil {
		mt.Affinity = s.CpusAllowedList
	}
}

// fds records the nsfs files of every fd table, and the sockets made in
// a network namespace other than their table's task's. The pass's own
// registry fds are not holders (none exist yet when the iterator runs,
// but a source that ran before may hold some), nor are those in
// Options.OwnFDs.
//
// iter/task_file visits the leader's table and each thread's that has one
// of its own (after unshare(CLONE_FILES)), which starts as a copy of the
// leader's: the same fd on the same namespace in both is one holder, as
// model.FD (a process and an fd number) can tell.
func (b *bpfPass) fds() {
	self := os.Getpid()
	type holder struct {
		e       *entry
		pid, fd int
		socket  bool
	}
	seen := make(map[holder]bool, len(b.snap.FDs))
	add := func(fd bpfiter.FD, socket bool) {
		if fd.PID == self && !socket && b.p.reg.own(fd.FD) {
			return
		}
		e := b.ns(fd.NS)
		k := holder{e, fd.PID, fd.FD, socket}
		if e == nil || seen[k] {
			return
		}
		seen[k] = true
		h := hold{e: e}
		if socket {
			b.p.reg.mark(e, model.FromSocket)
			h.socket = &model.FD{PID: fd.PID, FD: fd.FD}
		} else {
			b.p.reg.mark(e, model.FromFD)
			h.fd = &model.FD{PID: fd.PID, FD: fd.FD}
		}
		b.f.holds = append(b.f.holds, h)
	}
	for _, fd := range b.snap.FDs {
		add(fd, false)
	}
	for _, fd := range b.snap.Sockets {
		add(fd, true)
	}
	for _, u := range b.snap.Unborn {
		if e := b.ns(u.NS); e != nil {
			b.p.reg.mark(e, model.FromUnborn)
		}
	}
}

// mounts reads the nsfs mounts of every mount namespace through one of
// its processes, as the /proc walk does: the lowest PID that is still in
// it and whose mountinfo may be read. Trying the next one matters where
// the lowest may not be read (PID 1 of some sandboxes refuses even root)
// or exited since the iterator ran.
func (b *bpfPass) mounts() {
	procfd, err := unix.Open("/proc", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(procfd)
	w := newWorker(b.p, procfd)
	w.f = b.f
	mnts := slices.Collect(maps.Keys(b.mntPIDs))
	slices.SortFunc(mnts, func(x, y *entry) int { return cmp.Compare(x.ns.Ino, y.ns.Ino) })
	for _, mnt := range mnts {
		denied := false
		for _, pid := range b.mntPIDs[mnt] {
			err := b.mountsVia(w, procfd, pid, mnt)
			if err == nil {
				denied = false
				break
			}
			denied = denied || procinfo.IsDenied(err)
		}
		if denied {
			b.f.denied.Mountinfo++
		}
	}
}

// errLeft means a process is not in the mount namespace any more.
var errLeft = errors.New("left the mount namespace")

// mountsVia reads mnt's nsfs mounts through process pid, which must still
// be in mnt.
func (b *bpfPass) mountsVia(w *worker, procfd, pid int, mnt *entry) error {
	dfd, err := openDir(procfd, strconv.Itoa(pid)+"/ns")
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	l, isShort, err := readlink(dfd, "mnt", w.linkBuf)
	if err != nil {
		return err // EACCES where ptrace access is refused
	}
	if _, ino, ok := namespaces.ParseLink(l); !isShort || !ok || ino != mnt.ns.Ino {
		return errLeft
	}
	return w.mounts(dfd, pid, mnt)
}

// openVia opens the namespace of e, which the pass holds no fd on,
// through the task recorded in e.via or else the holder in e.alt, and
// checks it is e's; -1 when it cannot.
func openVia(e *entry) int {
	fd := -1
	switch {
	case e.via != [2]int{}:
		name := ""
		for _, l := range namespaces.Links {
			if l.Type == e.ns.Type {
				name = l.Name
				break
			}
		}
		fd, _ = unix.Open("/proc/"+strconv.Itoa(e.via[0])+"/task/"+strconv.Itoa(e.via[1])+"/ns/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	case e.alt == nil:
	case e.alt.socket:
		fd = socketNSOf(e.alt.pid, e.alt.fd)
	case e.alt.path != "":
		fd, _ = unix.Open("/proc/"+strconv.Itoa(e.alt.pid)+"/root"+e.alt.path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	default:
		fd, _ = unix.Open("/proc/"+strconv.Itoa(e.alt.pid)+"/fd/"+strconv.Itoa(e.alt.fd), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	}
	if fd < 0 {
		return -1
	}
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Ino != e.ns.Ino {
		unix.Close(fd)
		return -1
	}
	return fd
}

// socketNSOf opens the network namespace of process pid's socket fd
// (pidfd_getfd(2), SIOCGSKNS); -1 when it cannot.
func socketNSOf(pid, fd int) int {
	pidfd, err := linux.PidfdOpen(pid)
	if err != nil {
		return -1
	}
	defer unix.Close(pidfd)
	f, err := unix.PidfdGetfd(pidfd, fd, 0)
	if err != nil {
		return -1
	}
	defer unix.Close(f)
	ns, err := unix.IoctlRetInt(f, unix.SIOCGSKNS)
	if err != nil {
		return -1
	}
	return ns
}
