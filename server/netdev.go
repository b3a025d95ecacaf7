package server

import (
	"errors"
	"io/fs"
	"slices"
	"strings"

	"github.com/prometheus/procfs"
	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/procinfo"
)

// NetDevLine is one interface of a container's network namespace, as
// prometheus/procfs parses /proc/PID/net/dev.
type NetDevLine = procfs.NetDevLine

// readNetDev reads the interface counters of every container in a network
// namespace of its own. procfs reads by path, so the container's init is
// pinned with a pidfd first and checked alive after the read: a PID
// cannot be reused while its process lives, so a read that the check
// follows was that process's (KERNEL-NOTES: "open a pidfd first, read
// /proc/PID/..., then confirm the process is still alive").
func readNetDev(p *Pass) {
	pfs, err := procfs.NewFS(procinfo.Root)
	if err != nil {
		return
	}
	net := slices.Index(SharedTypes, namespaces.Net)
	for _, c := range p.Containers {
		if c.Shared != nil && c.Shared[net] {
			continue // the host's own interfaces: node_exporter's job
		}
		lines, err := netDevOf(pfs, c.PID)
		if err != nil {
			if !ignorable(err) {
				p.Fail("netdev")
			}
			continue
		}
		c.NetDev = lines
	}
}

func netDevOf(pfs procfs.FS, pid int) ([]NetDevLine, error) {
	pin, err := procinfo.Open(pid)
	if err != nil {
		return nil, err
	}
	defer pin.Close()
	proc, err := pfs.Proc(pid)
	if err != nil {
		return nil, err
	}
	nd, err := proc.NetDev()
	if err != nil {
		return nil, err
	}
	if err := pin.Alive(); err != nil {
		return nil, err
	}
	lines := make([]NetDevLine, 0, len(nd))
	for _, l := range nd {
		lines = append(lines, l)
	}
	slices.SortFunc(lines, func(a, b NetDevLine) int { return strings.Compare(a.Name, b.Name) })
	return lines, nil
}

// ignorable: the container's init exited between the pass and the read.
func ignorable(err error) bool {
	return ignoreGone(err) == nil || errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ESRCH)
}
