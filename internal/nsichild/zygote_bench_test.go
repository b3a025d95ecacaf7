//go:build cgo

package nsichild

import (
	"os"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// The zygote's costs, one part at a time (bench/clone-vs-unshare.sh
// puts the whole experiment beside a C program):
//
//	go test -run '^$' -bench . ./internal/nsichild

// labFlags are the namespaces clone's lab is made in (clone/lab.go).
const benchLabFlags = unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET |
	unix.CLONE_NEWPID | unix.CLONE_NEWCGROUP

// allNS is every namespace flag, the one-experiment workload.
const allNS = unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET |
	unix.CLONE_NEWPID | unix.CLONE_NEWUSER | unix.CLONE_NEWCGROUP | unix.CLONE_NEWTIME

func benchRoot(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("the lab needs root: run as root")
	}
}

// Start and end a zygote: as a lab's PID 1 (six namespaces, the mounts,
// the time namespace), and on the host.
func BenchmarkZygoteStart(b *testing.B) {
	benchRoot(b)
	for _, bc := range []struct {
		name string
		mode ZygoteMode
		attr func() *syscall.SysProcAttr
	}{
		{"lab", ZygoteLab, func() *syscall.SysProcAttr {
			return &syscall.SysProcAttr{Cloneflags: benchLabFlags, Pdeathsig: syscall.SIGKILL}
		}},
		{"host", ZygoteHost, func() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				z, err := StartZygote(bc.mode, bc.attr())
				if err != nil {
					b.Fatal(err)
				}
				if err := z.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// One experiment's processes in a lab, made and reaped: the parent alone,
// the parent and a plain child, and the parent and a child with every
// namespace flag.
func BenchmarkExperimentProcesses(b *testing.B) {
	benchRoot(b)
	for _, bc := range []struct {
		name  string
		clone bool
		flags uint64
	}{{"parent", false, 0}, {"plain-child", true, 0}, {"all-ns-child", true, allNS}} {
		b.Run(bc.name, func(b *testing.B) {
			z, err := StartZygote(ZygoteLab, &syscall.SysProcAttr{Cloneflags: benchLabFlags, Pdeathsig: syscall.SIGKILL})
			if err != nil {
				b.Fatal(err)
			}
			defer z.Close()
			for i := 0; i < b.N; i++ {
				if err := oneExperiment(z, bc.clone, bc.flags); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func oneExperiment(z *Zygote, clone bool, flags uint64) error {
	p, pe, err := NewSide("parent")
	if err != nil {
		return err
	}
	defer p.Close()
	c, ce, err := NewSide("child")
	if err != nil {
		return err
	}
	defer c.Close()
	_, pidfd, err := z.Spawn(Experiment{Flags: flags, ExitSignal: int(syscall.SIGCHLD), Clone3: true, CgroupFD: -1}, [4]*os.File{pe[0], pe[1], ce[0], ce[1]})
	for _, f := range []*os.File{pe[0], pe[1], ce[0], ce[1]} {
		f.Close()
	}
	if err != nil {
		return err
	}
	unix.Close(pidfd)
	defer z.Reap()
	if _, err := p.Recv(RequestTimeout); err != nil {
		return err
	}
	if !clone {
		return nil
	}
	if _, _, err := p.Do(OpClone, 0, ""); err != nil {
		return err
	}
	_, err = c.Recv(RequestTimeout)
	return err
}
