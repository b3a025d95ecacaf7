package discover

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/decimal"
	"github.com/nsinspect/nsinspect/internal/linux"
	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/procinfo"
)

// forChildren[i] is the index in namespaces.Links of the link that link i
// is the *_for_children twin of, or -1.
var forChildren = func() []int {
	idx := make([]int, len(namespaces.Links))
	for i, l := range namespaces.Links {
		idx[i] = -1
		if base, ok := strings.CutSuffix(l.Name, "_for_children"); ok {
			for j, m := range namespaces.Links {
				if m.Name == base {
					idx[i] = j
				}
			}
		}
	}
	return idx
}()

// mntLink is the index of "mnt" in namespaces.Links.
var mntLink = func() int {
	for i, l := range namespaces.Links {
		if l.Name == "mnt" {
			return i
		}
	}
	panic("namespaces.Links has no mnt link")
}()

// zombieLinks are the links a zombie still resolves: exit_task_namespaces
// dropped its nsproxy (cgroup, ipc, mnt, net, time, uts and the
// *_for_children ones), but its struct pid still pins its pid namespace
// and its cred its user namespace, as lsns(8) counts them.
var zombieLinks = func() (idx []int) {
	for i, l := range namespaces.Links {
		if l.Name == "pid" || l.Name == "user" {
			idx = append(idx, i)
		}
	}
	return idx
}()

// worker reads processes one at a time with its own buffers and keeps its
// findings to itself until the pass merges them.
type worker struct {
	reg    *registry
	tasks  bool // record every task (Options.Tasks)
	procfd int
	self   bool // reading the discovering process itself: skip its own fds (registry.own)

	cache map[uint64]*entry // inode -> entry, valid for the whole pass
	f     *findings

	fileBuf, dirBuf, linkBuf []byte
	ints                     []int
	// tables are the threads of the current process with an fd table of
	// their own (unshare(CLONE_FILES)), found by threads, read by fds.
	tables []fdTable
	// nsfsDev is the device of nsfs (Pass.nsfsDev), 0 if unknown.
	nsfsDev uint64
	// sockets maps a socket's inode to its network namespace's inode, for
	// the pass (see socket).
	sockets map[uint64]uint64
	socks   *netSockets // the pass's, shared by its workers
}

func newWorker(p *Pass, procfd int) *worker {
	return &worker{
		reg: p.reg, tasks: p.opt.Tasks, procfd: procfd,
		cache:   make(map[uint64]*entry, 256),
		sockets: make(map[uint64]uint64, 64),
		nsfsDev: p.nsfsDev,
		socks:   p.socks,
		f:       newFindings(),
		fileBuf: make([]byte, 0, 16<<10),
		dirBuf:  make([]byte, 8<<10),
		linkBuf: make([]byte, 128),
	}
}

// resolve reads the nsfs link dirfd/path and returns its namespace,
// opening it if the inode is new. ok is false (with a nil error) when the
// link is not an nsfs link.
func (w *worker) resolve(dirfd int, path string, t namespaces.Type, src model.Source) (*entry, error) {
	for try := 0; ; try++ {
		b, isShort, err := readlink(dirfd, path, w.linkBuf)
		if err != nil {
			return nil, err
		}
		lt, ino, ok := namespaces.ParseLink(b)
		if !isShort || !ok || lt != t {
			return nil, errNotNS
		}
		if e := w.cache[ino]; e != nil {
			if src != 0 {
				w.reg.mark(e, src)
			}
			return e, nil
		}
		e, err := w.reg.open(dirfd, path, t, ino, src)
		if errors.Is(err, errMoved) && try < 3 {
			continue
		}
		if err != nil {
			return nil, err
		}
		w.cache[ino] = e
		return e, nil
	}
}

var errNotNS = errors.New("not an nsfs link")

// process reads one process through a directory fd on /proc/PID; see the
// package doc for why that fd is enough of a pin. Every error is about
// this one process and ends its reading: it exited, or we may not look.
func (w *worker) process(pid int) {
	// One fd on /proc/PID/ns pins the process (see the package doc);
	// the rest of /proc/PID is reached through its "..", which is the
	// dentry it was looked up under, so the same process. That saves
	// opening and closing /proc/PID itself.
	dfd, err := openDir(w.procfd, strconv.Itoa(pid)+"/ns")
	if err != nil {
		if procinfo.IsDenied(err) {
			w.f.denied.NSLinks++
			w.unreadable(pid, err)
		}
		return
	}
	defer unix.Close(dfd)
	var links [10]*entry
	zombie := false
	if err := w.linksAt(dfd, &links); err != nil {
		switch {
		case procinfo.IsDenied(err):
			w.f.denied.NSLinks++
			w.task(dfd, pid, pid, nil, deniedWhy(err))
			return
		case !errors.Is(err, unix.ENOENT) || !w.isZombie(dfd):
			// Gone, or moving too fast: drop the whole process rather
			// than count part of it.
			return
		}
		zombie = true
		if links, err = w.zombieLinksAt(dfd); err != nil {
			return // reaped meanwhile
		}
	}
	if !zombie && links[pidForChildren] == nil {
		links[pidForChildren] = w.unborn(dfd, pid, false)
	} else if !zombie && links[pidForChildren] != links[pidLink] {
		w.markUnborn(links[pidForChildren])
	}
	w.f.procs++
	if zombie {
		w.task(dfd, pid, pid, &links, zombieWhy)
	} else {
		w.task(dfd, pid, pid, &links, "")
	}
	// Only a namespace's lowest PID is shown, so stat and cmdline are read
	// for few processes: pids come in ascending order, and most are
	// nobody's lowest.
	var id *identity
	for i, e := range links {
		if e != nil && forChildren[i] < 0 {
			if a := w.f.aggs[e]; a == nil || a.pid == 0 || pid < a.pid {
				id = w.identify(dfd) // nil if it exited just now
				break
			}
		}
	}
	for i, e := range links {
		if e == nil {
			continue
		}
		if j := forChildren[i]; j >= 0 {
			if e != links[j] {
				w.reg.mark(e, model.FromChildren)
			}
			continue
		}
		a := w.f.aggs[e]
		if a == nil {
			a = &agg{}
			w.f.aggs[e] = a
		}
		a.nprocs++
		if zombie {
			a.zombies++
			w.reg.mark(e, model.FromZombie)
		}
		if id != nil && (a.pid == 0 || pid < a.pid) {
			a.pid, a.ppid, a.uid, a.cmd = pid, id.ppid, id.uid, id.cmd
		}
	}
	if mnt := links[mntLink]; mnt != nil && w.reg.claimMounts(mnt) {
		if err := w.mounts(dfd, pid, mnt); err != nil {
			w.reg.releaseMounts(mnt)
			if procinfo.IsDenied(err) {
				w.f.denied.Mountinfo++
			}
		}
	}
	// /proc/PID/task has num_threads+2 links (proc_task_getattr), a
	// quarter of the cost of reading num_threads from stat.
	var st unix.Stat_t
	w.tables = w.tables[:0]
	if unix.Fstatat(dfd, "../task", &st, 0) == nil && st.Nlink > 3 {
		w.threads(dfd, pid, &links)
	}
	w.fds(dfd, pid, links[netLink])
}

// isZombie reads the State of the process whose ns directory is dfd.
func (w *worker) isZombie(dfd int) bool {
	b, err := readFile(dfd, "../stat", &w.fileBuf)
	if err != nil {
		return false
	}
	st, err := procinfo.ParseStat(string(b))
	return err == nil && (st.State == 'Z' || st.State == 'X')
}

// zombieLinksAt resolves only the links a zombie keeps (zombieLinks).
func (w *worker) zombieLinksAt(nsfd int) (out [10]*entry, err error) {
	for _, i := range zombieLinks {
		l := namespaces.Links[i]
		if out[i], err = w.resolve(nsfd, l.Name, l.Type, 0); err != nil {
			return out, err
		}
	}
	return out, nil
}

// linksAt is links on an open ns directory. pid_for_children answers
// ENOENT while the pid namespace a task unshared has no init yet
// (pidns_for_children_get): that link is left nil, the process is not
// gone. Any other error ends the reading.
func (w *worker) linksAt(nsfd int, out *[10]*entry) error {
	var err error
	for i, l := range namespaces.Links {
		out[i], err = w.resolve(nsfd, l.Name, l.Type, 0)
		if err != nil && i == pidForChildren && errors.Is(err, unix.ENOENT) && out[pidLink] != nil {
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// pidLink is the index of "pid" in namespaces.Links.
var pidLink = namespaces.LinkIndex("pid")

// identity is what lsns shows about a namespace's lowest PID.
type identity struct {
	ppid  int
	uid   uint32 // owner of /proc/PID, as lsns reports USER
	cmd   string
	start uint64 // starttime of /proc/PID/stat, clock ticks after boot
}

// identify reads the process's identity, or returns nil if it exited.
// The command is its command line with NULs as spaces, or its comm when
// the command line is empty (kernel threads), as lsns shows it.
func (w *worker) identify(dfd int) *identity {
	var st unix.Stat_t
	if unix.Fstatat(dfd, "..", &st, 0) != nil {
		return nil
	}
	b, err := readFile(dfd, "../stat", &w.fileBuf)
	if err != nil {
		return nil
	}
	sf, err := procinfo.ParseStat(string(b))
	if err != nil {
		return nil
	}
	id := &identity{ppid: sf.PPID, uid: st.Uid, start: sf.StartTime}
	b, err = readFile(dfd, "../cmdline", &w.fileBuf)
	if err != nil {
		return nil
	}
	for i, c := range b {
		if c == 0 {
			b[i] = ' '
		}
	}
	if b = bytes.TrimRight(b, " "); len(b) > 0 {
		id.cmd = string(b)
	} else {
		id.cmd = sf.Comm
	}
	return id
}

// mounts reads mountinfo of the mount namespace mnt through process pid
// and resolves every nsfs mount in it through /proc/PID/root.
func (w *worker) mounts(dfd, pid int, mnt *entry) error {
	b, err := readFile(dfd, "../mountinfo", &w.fileBuf)
	if err != nil {
		return err
	}
	if len(b) == 0 {
		// A kernel thread's mountinfo is empty from Linux 7.3, though it
		// is in the initial mount namespace: its mounts are read through
		// the namespace's next process instead.
		return errNoMountinfo
	}
	for _, m := range procinfo.ParseNSFSMounts(b) {
		e := w.cache[m.Ino]
		if e == nil {
			// Opening through root/ resolves the path inside the
			// process's own root and mount namespace, where the line
			// came from.
			e, err = w.reg.open(dfd, "../root"+m.MountPoint, m.Type, m.Ino, model.FromBindMount)
			if err != nil {
				if procinfo.IsDenied(err) {
					w.f.denied.Mountinfo++
				}
				continue
			}
			w.cache[m.Ino] = e
		} else {
			w.reg.mark(e, model.FromBindMount)
		}
		w.f.holds = append(w.f.holds, hold{e: e, mount: &model.BindMount{Path: m.MountPoint, MntNS: mnt.ns.ID, MntNSIno: mnt.ns.Ino, PID: pid}})
	}
	return nil
}

// errNoMountinfo is a task whose mountinfo lists no mount at all, not
// even its root: a kernel thread on 7.3.
var errNoMountinfo = errors.New("mountinfo is empty")

// threads reads the ns links of each non-leader thread and records those
// that differ from the leader's. It also notes the threads whose fd table
// is not the leader's (kcmp KCMP_FILES), for fds: /proc/PID/fd shows
// only the leader's table.
func (w *worker) threads(dfd, pid int, leader *[10]*entry) {
	w.ints = w.ints[:0]
	err := readDir(dfd, "../task", w.dirBuf, func(name []byte) {
		if tid, ok := decimal.Parse(name); ok && int(tid) != pid {
			w.ints = append(w.ints, int(tid))
		}
	})
	if err != nil {
		return
	}
	for _, tid := range w.ints {
		nsfd, err := openDir(dfd, "../task/"+strconv.Itoa(tid)+"/ns")
		if err != nil {
			continue // the thread exited
		}
		var links [10]*entry
		if err := w.linksAt(nsfd, &links); err != nil {
			if procinfo.IsDenied(err) {
				w.f.denied.Threads++
				w.task(nsfd, pid, tid, nil, deniedWhy(err))
			}
			unix.Close(nsfd)
			continue // the thread exited, or we may not look
		}
		if links[pidForChildren] == nil {
			links[pidForChildren] = w.unborn(nsfd, tid, true)
		} else if links[pidForChildren] != links[pidLink] {
			w.markUnborn(links[pidForChildren])
		}
		w.task(nsfd, pid, tid, &links, "")
		unix.Close(nsfd)
		// ESRCH: the thread exited. Another error (ENOSYS without
		// CONFIG_KCMP) reads its table anyway: fds drops the holders
		// it shares with the leader's.
		if r, err := linux.Kcmp(pid, tid, linux.KCMP_FILES, 0, 0); r != 0 && !errors.Is(err, unix.ESRCH) {
			base := "../task/" + strconv.Itoa(tid) + "/"
			w.tables = append(w.tables, fdTable{dfd: dfd, base: base, dir: base + "fd", tid: tid, thread: true, net: links[netLink]})
		}
		for i, e := range links {
			if e != leader[i] {
				w.reg.mark(e, model.FromThread)
				w.f.holds = append(w.f.holds, hold{e: e, thread: &model.TaskRef{PID: pid, TID: tid}})
			}
		}
	}
}

// zombieWhy is why a zombie's other links are missing.
const zombieWhy = "zombie: released its nsproxy at exit (exit_task_namespaces); only pid and user still resolve"

// deniedPrefix starts every deniedWhy: task() marks such tasks Refused.
const deniedPrefix = "ptrace access refused: "

func deniedWhy(err error) string { return deniedPrefix + err.Error() }

// unreadable records a process whose ns directory we may not open
// (another user's, without CAP_SYS_PTRACE): its stat is world-readable,
// so views list it with its namespaces missing and say why, instead of
// leaving it out. Its task directory stands in for the ns directory:
// task() reads "../stat" from either, and an fd on it pins the process
// as well.
func (w *worker) unreadable(pid int, denied error) {
	if !w.tasks {
		return
	}
	tfd, err := openDir(w.procfd, strconv.Itoa(pid)+"/task")
	if err != nil {
		return // gone meanwhile
	}
	defer unix.Close(tfd)
	w.task(tfd, pid, pid, nil, deniedWhy(denied))
}

// task records the task whose ns directory is nsfd when the pass records
// tasks. links are its namespaces, nil where one was not read, for the
// reason why. A task whose stat cannot be read has exited and is left out.
func (w *worker) task(nsfd, pid, tid int, links *[10]*entry, why string) {
	if !w.tasks {
		return
	}
	b, err := readFile(nsfd, "../stat", &w.fileBuf)
	if err != nil {
		return
	}
	st, err := procinfo.ParseStat(string(b))
	if err != nil {
		return
	}
	n := len(namespaces.Links)
	t := &model.Task{
		PID: pid, TID: tid, PPID: st.PPID, Comm: st.Comm, State: st.State, Kernel: st.IsKthread(),
		NS: make([]*model.Namespace, n), Missing: make([]string, n),
		Refused: links == nil && strings.HasPrefix(why, deniedPrefix),
	}
	for i := range n {
		switch {
		case links != nil && links[i] != nil:
			t.NS[i] = links[i].ns
		case links != nil && why == "" && i == pidForChildren:
			t.Missing[i] = noInitWhy
		default:
			t.Missing[i] = why
		}
	}
	if t.Kernel {
		// Through the same pinned directory, so this kernel thread's.
		if b, err := readFile(nsfd, "../status", &w.fileBuf); err == nil {
			if s, err := procinfo.ParseStatus(bytes.NewReader(b)); err == nil {
				t.Affinity = s.CpusAllowedList
			}
		}
	}
	w.f.tasks = append(w.f.tasks, t)
}

// fds finds the process's open fds on namespaces: in its fd table
// (/proc/PID/fd, the leader's) and in each table of its own that threads
// found. A thread's table starts as a copy of the leader's, and an fd on
// the same namespace under the same number in two tables is one holder,
// as model.FD (a process and an fd number) can tell. net is the leader's
// network namespace, against which its sockets are compared.
func (w *worker) fds(dfd, pid int, net *entry) {
	first := len(w.f.holds)
	w.fdTable(dfd, pid, first, &fdTable{dfd: dfd, base: "../", dir: "../fd", tid: pid, net: net, self: w.self})
	for i := range w.tables {
		// Our own threads' tables are ours too: a thread taken for one
		// with a table of its own while the runtime made or moved it
		// would otherwise show the registry's fds as holders.
		w.tables[i].self = w.tables[i].self || w.self
		w.fdTable(dfd, pid, first, &w.tables[i])
	}
}

// fdTable records the namespaces the fds of table t hold that are not
// among w.f.holds[first:] yet: nsfs files, whether their link reads
// "net:[INODE]" (opened through /proc/PID/ns) or a path (through a bind
// mount), and the network namespaces of sockets made in another one
// than t's task's. In the discovering process's shared table (t.self) the
// pass's own registry fds, and those the caller named in Options.OwnFDs,
// are not holders: they exist only because we are looking. A thread's own
// table holds none of them.
func (w *worker) fdTable(dfd, pid, first int, t *fdTable) {
	defer t.close()
	t.pidfd = -1
	fdfd, err := openDir(dfd, t.dir)
	if err != nil {
		if procinfo.IsDenied(err) {
			w.f.denied.FDs++
		}
		return
	}
	defer unix.Close(fdfd)
	w.ints = w.ints[:0]
	err = listDir(fdfd, w.dirBuf, func(name []byte) {
		if fd, ok := decimal.Parse(name); ok && fd < 1<<31 {
			w.ints = append(w.ints, int(fd))
		}
	})
	if err != nil {
		return
	}
	for _, fd := range w.ints {
		if t.self && w.reg.own(fd) {
			continue
		}
		name := strconv.Itoa(fd)
		b, isShort, err := readlink(fdfd, name, w.linkBuf)
		if err != nil {
			continue
		}
		var e *entry
		src := model.FromFD
		if typ, _, ok := namespaces.ParseLink(b); ok && isShort {
			e, err = w.resolve(fdfd, name, typ, src)
		} else if sock, ok := socketIno(b); ok && isShort {
			src = model.FromSocket
			e, err = w.socket(t, fd, sock)
		} else if len(b) > 0 && b[0] == '/' {
			e, err = w.resolveStat(fdfd, name, src)
		} else {
			continue
		}
		if err != nil {
			continue
		}
		h := hold{e: e}
		if src == model.FromSocket {
			h.socket = &model.FD{PID: pid, FD: fd}
		} else {
			h.fd = &model.FD{PID: pid, FD: fd}
		}
		if slices.ContainsFunc(w.f.holds[first:], func(o hold) bool { return o.same(h) }) {
			continue
		}
		w.f.holds = append(w.f.holds, h)
	}
}
