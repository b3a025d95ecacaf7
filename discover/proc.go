package discover

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/decimal"
)

// Proc is the /proc walk: every process's ns links, the links of threads
// that differ from their leader's, fds on namespaces and nsfs bind mounts
// (see the package doc for where and how it reads each).
type Proc struct{}

// Name is "proc".
func (Proc) Name() string { return "proc" }

// Discover walks procfs. It fails only when procfs itself cannot be read;
// everything about single processes is best-effort.
func (Proc) Discover(p *Pass) error {
	proc := p.procRoot()
	procfd, err := unix.Open(proc, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening %s: %w", proc, err)
	}
	defer unix.Close(procfd)
	self := os.Getpid()
	var pids []int
	dirBuf := make([]byte, 32<<10)
	err = readDir(procfd, ".", dirBuf, func(name []byte) {
		if pid, ok := decimal.Parse(name); ok && pid < 1<<31 && int(pid) != self {
			pids = append(pids, int(pid))
		}
	})
	if err != nil {
		return fmt.Errorf("listing %s: %w", proc, err)
	}
	workers := startWorkers(p, procfd, pids, p.opt.Workers)
	// Our own process last and alone: while workers run, our fd table
	// holds their transient nsfs fds, which are no one's holders.
	me := newWorker(p, procfd)
	me.self = true
	me.process(self)
	for _, w := range append(workers, me) {
		p.found = append(p.found, w.f)
	}
	return nil
}

// startWorkers reads pids with n workers and returns them when all are
// done. pids are handed out in ascending chunks, so that each worker
// mostly meets a namespace's lowest PID first and reads few command lines.
func startWorkers(p *Pass, procfd int, pids []int, n int) []*worker {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	const chunk = 32
	var next atomic.Int64
	ws := make([]*worker, n)
	var wg sync.WaitGroup
	for i := range ws {
		w := newWorker(p, procfd)
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
