package clone

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/clone/report"
	"github.com/nsinspect/nsinspect/procinfo"
)

// inNamespace runs fn on a fresh OS thread that has joined one namespace
// of p (setns(2)), for the views the kernel only gives from inside: uname
// for UTS, /proc/sysvipc and mq_open for IPC. If the thread cannot go back
// to its own namespace, it is never unlocked, so the Go runtime destroys
// it when the goroutine ends: no thread is left in a foreign namespace.
func inNamespace(p *procinfo.Proc, link string, nstype int, fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		target, err := p.OpenNS(link)
		if err != nil {
			runtime.UnlockOSThread()
			done <- err
			return
		}
		defer unix.Close(target)
		self, err := unix.Open("/proc/thread-self/ns/"+link, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("opening this thread's %s namespace: %w", link, err)
			return
		}
		defer unix.Close(self)
		if err := unix.Setns(target, nstype); err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("setns into pid %d's %s namespace: %w", p.PID, link, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(self, nstype); err != nil {
			done <- fmt.Errorf("returning from pid %d's %s namespace: %w (thread discarded)", p.PID, link, err)
			return // still locked: the thread dies with this goroutine
		}
		runtime.UnlockOSThread()
		done <- ferr
	}()
	return <-done
}

func hostnameOf(p *procinfo.Proc) (string, error) {
	var name string
	err := inNamespace(p, "uts", unix.CLONE_NEWUTS, func() error {
		var u unix.Utsname
		if err := unix.Uname(&u); err != nil {
			return err
		}
		name = unix.ByteSliceToString(u.Nodename[:])
		return nil
	})
	return name, err
}

// netHandle opens a netlink handle in p's network namespace, through the
// pinned ns link rather than a path.
func netHandle(p *procinfo.Proc) (*netlink.Handle, func(), error) {
	fd, err := p.OpenNS("net")
	if err != nil {
		return nil, nil, err
	}
	// Only NETLINK_ROUTE: with no protocol given, NewHandleAt opens XFRM
	// and NETFILTER sockets too, which need xfrm_user and nfnetlink and
	// fail where those modules are absent and cannot be loaded.
	h, err := netlink.NewHandleAt(netns.NsHandle(fd), unix.NETLINK_ROUTE)
	if err != nil {
		unix.Close(fd)
		return nil, nil, fmt.Errorf("netlink in pid %d's network namespace: %w", p.PID, err)
	}
	return h, func() { h.Close(); unix.Close(fd) }, nil
}

func netLinks(p *procinfo.Proc) ([]report.NetLink, error) {
	h, closeH, err := netHandle(p)
	if err != nil {
		return nil, err
	}
	defer closeH()
	links, err := h.LinkList()
	if err != nil {
		return nil, fmt.Errorf("listing links: %w", err)
	}
	// One dump of every address in the namespace, sorted to the links.
	addrs, err := h.AddrList(nil, unix.AF_UNSPEC)
	if err != nil {
		return nil, fmt.Errorf("listing addresses: %w", err)
	}
	byLink := map[int][]string{}
	for _, ad := range addrs {
		byLink[ad.LinkIndex] = append(byLink[ad.LinkIndex], ad.IPNet.String())
	}
	out := make([]report.NetLink, 0, len(links))
	for _, l := range links {
		a := l.Attrs()
		nl := report.NetLink{Index: a.Index, Name: a.Name, Type: l.Type(), Up: a.Flags&unix.IFF_UP != 0, Addrs: byLink[a.Index]}
		if nl.Addrs == nil {
			nl.Addrs = []string{}
		}
		out = append(out, nl)
	}
	return out, nil
}

// ipcOf reads /proc/sysvipc from inside p's IPC namespace: the files show
// the namespace of the thread that opens them.
func ipcOf(p *procinfo.Proc) (*report.IPCView, error) {
	v := &report.IPCView{}
	err := inNamespace(p, "ipc", unix.CLONE_NEWIPC, func() error {
		for _, f := range []struct {
			name string
			dst  *[]procinfo.IPCObject
		}{{"shm", &v.Shm}, {"sem", &v.Sem}, {"msg", &v.Msg}} {
			file, err := os.Open("/proc/sysvipc/" + f.name)
			if err != nil {
				return err
			}
			*f.dst, err = procinfo.ParseSysvipc(file)
			file.Close()
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// ipcLookup asks, from inside p's IPC namespace, whether a SysV object
// with key exists (shmget/msgget with no flags) and whether a POSIX
// message queue called name exists (mq_open without O_CREAT).
func ipcLookup(p *procinfo.Proc, shmKey, msgKey int, mqName string) (shm, msg, mq error, err error) {
	err = inNamespace(p, "ipc", unix.CLONE_NEWIPC, func() error {
		_, shm = unix.SysvShmGet(shmKey, 0, 0)
		_, _, e := unix.Syscall(unix.SYS_MSGGET, uintptr(msgKey), 0, 0)
		msg = errnoErr(e)
		name, _ := unix.BytePtrFromString(mqName)
		fd, _, e := unix.Syscall6(unix.SYS_MQ_OPEN, uintptr(unsafe.Pointer(name)), unix.O_RDONLY|unix.O_CLOEXEC, 0, 0, 0, 0)
		if mq = errnoErr(e); mq == nil {
			unix.Close(int(fd))
		}
		return nil
	})
	return
}

func errnoErr(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}
