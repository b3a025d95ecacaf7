package scan

import (
	"cmp"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/namespaces"
)

// Options tune a scan. The zero value scans /proc with GOMAXPROCS workers.
type Options struct {
	Workers int    // 0: runtime.GOMAXPROCS(0)
	Proc    string // procfs mount point, "" for /proc
}

// Denied counts what the scan was not allowed to read, by what it was.
// Other users' ns links, task links, fds and /proc/PID/root need
// PTRACE_MODE_READ access (CAP_SYS_PTRACE for processes of other users).
type Denied struct {
	NSLinks   int // processes whose /proc/PID/ns could not be read
	Threads   int // threads whose /proc/PID/task/TID/ns could not be read
	FDs       int // processes whose /proc/PID/fd could not be listed
	Mountinfo int // mountinfo files or nsfs mount points that could not be read
	Relatives int // NS_GET_USERNS/NS_GET_PARENT calls refused
}

// Any reports whether anything at all was denied.
func (d Denied) Any() bool { return d != Denied{} }

// Result is one scan of the host.
type Result struct {
	// Namespaces, sorted as lsns sorts them: by inode number, then type.
	Namespaces []*Namespace
	Processes  int // processes whose namespaces were read
	Denied     Denied
}

// Scan finds every namespace it can see. It fails only when /proc itself
// cannot be read; everything about single processes is best-effort.
func Scan(opt Options) (*Result, error) {
	proc := opt.Proc
	if proc == "" {
		proc = "/proc"
	}
	procfd, err := unix.Open(proc, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", proc, err)
	}
	defer unix.Close(procfd)
	self := os.Getpid()
	var pids []int
	dirBuf := make([]byte, 32<<10)
	err = readDir(procfd, ".", dirBuf, func(name []byte) {
		if pid, ok := parseUint(name); ok && pid < 1<<31 && int(pid) != self {
			pids = append(pids, int(pid))
		}
	})
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", proc, err)
	}

	reg := newRegistry()
	defer reg.close()
	workers := startWorkers(reg, procfd, pids, opt.Workers)
	// Our own process last and alone: while workers run, our fd table
	// holds their transient nsfs fds, which are no one's holders.
	me := newWorker(reg, procfd)
	me.self = true
	me.process(self)
	workers = append(workers, me)

	res := &Result{}
	res.Denied.Relatives = reg.relatives()
	merge(reg, workers, res)
	netnsIDs(reg)
	for _, e := range reg.order {
		res.Namespaces = append(res.Namespaces, e.ns)
	}
	slices.SortFunc(res.Namespaces, func(a, b *Namespace) int {
		return cmp.Or(cmp.Compare(a.Ino, b.Ino), cmp.Compare(a.Type, b.Type))
	})
	return res, nil
}

// startWorkers reads pids with n workers and returns them when all are
// done. pids are handed out in ascending chunks, so that each worker
// mostly meets a namespace's lowest PID first and reads few command lines.
func startWorkers(reg *registry, procfd int, pids []int, n int) []*worker {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	const chunk = 32
	var next atomic.Int64
	ws := make([]*worker, n)
	var wg sync.WaitGroup
	for i := range ws {
		w := newWorker(reg, procfd)
		ws[i] = w
		wg.Go(func() {
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= len(pids) {
					return
				}
				for _, pid := range pids[lo:min(lo+chunk, len(pids))] {
					w.process(pid)
				}
			}
		})
	}
	wg.Wait()
	return ws
}

// merge folds the workers' per-namespace counts and holders into the
// namespaces.
func merge(reg *registry, ws []*worker, res *Result) {
	for _, w := range ws {
		res.Processes += w.procs
		d := &res.Denied
		d.NSLinks += w.denied.NSLinks
		d.Threads += w.denied.Threads
		d.FDs += w.denied.FDs
		d.Mountinfo += w.denied.Mountinfo
		for e, a := range w.aggs {
			ns := e.ns
			if a.nprocs > a.zombies {
				ns.Sources |= FromProcess
			}
			ns.NProcs += a.nprocs
			ns.Zombies += a.zombies
			if a.pid != 0 && (ns.PID == 0 || a.pid < ns.PID) {
				ns.PID, ns.PPID, ns.UID, ns.Command = a.pid, a.ppid, a.uid, a.cmd
			}
		}
		for _, h := range w.holds {
			switch {
			case h.thread != nil:
				h.e.ns.Threads = append(h.e.ns.Threads, *h.thread)
			case h.fd != nil:
				h.e.ns.FDs = append(h.e.ns.FDs, *h.fd)
			case h.mount != nil:
				h.e.ns.BindMounts = append(h.e.ns.BindMounts, *h.mount)
			}
		}
	}
	for _, e := range reg.order {
		ns := e.ns
		slices.SortFunc(ns.Threads, func(a, b Task) int { return cmp.Or(cmp.Compare(a.PID, b.PID), cmp.Compare(a.TID, b.TID)) })
		slices.SortFunc(ns.FDs, func(a, b FD) int { return cmp.Or(cmp.Compare(a.PID, b.PID), cmp.Compare(a.FD, b.FD)) })
		slices.SortFunc(ns.BindMounts, func(a, b BindMount) int { return cmp.Compare(a.Path, b.Path) })
	}
}

// netnsIDs asks the kernel (RTM_GETNSID) which nsid our network namespace
// assigned to each network namespace found. Failure leaves -1: the id is
// an extra, not worth failing a listing for.
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
		if id, err := h.GetNetNsIdByFd(e.fd); err == nil && id >= 0 {
			e.ns.NetNSID = id
		}
	}
}
