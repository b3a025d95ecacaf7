package clone

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/clone/report"
	"github.com/nsinspect/nsinspect/internal/linux"
	"github.com/nsinspect/nsinspect/internal/nsichild"
)

// A probe changes one resource from the child's side and reads the
// parent's view again. hostSafe probes change nothing outside the two
// experiment processes; the others run only in a lab.
type probeFunc func(p *pair, before *report.Side) report.Probe

var probes = []struct {
	name     string
	hostSafe bool
	run      probeFunc
}{
	{"fd", true, probeFD},
	{"cwd+umask", true, probeFS},
	{"memory", true, probeVM},
	{"signal handler", true, probeSighand},
	{"mount", false, probeMount},
	{"hostname", false, probeHostname},
	{"sysv shm", false, probeIPC},
	{"net link", false, probeNet},
}

func yes(b bool) *bool { return &b }

func failed(pr report.Probe, what string, err error) report.Probe {
	pr.Error = fmt.Sprintf("%s: %v", what, err)
	return pr
}

// failedInUserns explains an EPERM from a child in a new user namespace:
// it is root there, but the namespace it tried to change is shared with
// the parent and owned by the parent's user namespace.
func (p *pair) failedInUserns(pr report.Probe, what string, err error, ns string) report.Probe {
	pr = failed(pr, what, err)
	if errors.Is(err, unix.EPERM) && p.flags.Has(unix.CLONE_NEWUSER) {
		pr.Error += fmt.Sprintf(" (the child is root only in its new user namespace, which does not own the %s namespace it shares with the parent)", ns)
	}
	return pr
}

// probeFD: the child opens a file; with CLONE_FILES the parent's table has
// the same fd on the same open file description (KCMP_FILE == 0).
func probeFD(p *pair, _ *report.Side) report.Probe {
	pr := report.Probe{Name: "fd", Resource: "files"}
	fd, _, err := p.child.Do(nsichild.OpOpen, 0, "/dev/null")
	if err != nil {
		return failed(pr, "child open(/dev/null)", err)
	}
	defer p.child.Do(nsichild.OpClose, int32(fd), "")
	pr.Action = fmt.Sprintf("child opened /dev/null as fd %d", fd)
	target, lerr := p.parentProc.Readlink(fmt.Sprintf("fd/%d", fd))
	res, kerr := linux.Kcmp(p.parentPID, p.childTID, linux.KCMP_FILE, uintptr(fd), uintptr(fd))
	switch {
	case kerr == nil:
		pr.Shared = yes(res == 0)
		pr.Observed = fmt.Sprintf("parent's fd %d -> %s; KCMP_FILE = %d", fd, target, res)
	case errors.Is(kerr, unix.EBADF) && errors.Is(lerr, unix.ENOENT):
		pr.Shared = yes(false)
		pr.Observed = fmt.Sprintf("parent has no fd %d", fd)
	default:
		return failed(pr, "kcmp KCMP_FILE", kerr)
	}
	return pr
}

// probeFS: the child changes cwd and umask; with CLONE_FS the parent's
// cwd link and Umask follow.
func probeFS(p *pair, before *report.Side) report.Probe {
	pr := report.Probe{Name: "cwd+umask", Resource: "fs"}
	dir := "/tmp"
	if before.Cwd == dir {
		dir = "/"
	}
	const mask = 0o027
	if _, _, err := p.child.Do(nsichild.OpChdir, 0, dir); err != nil {
		return failed(pr, "child chdir("+dir+")", err)
	}
	old, _, err := p.child.Do(nsichild.OpUmask, mask, "")
	if err != nil {
		return failed(pr, "child umask", err)
	}
	defer p.child.Do(nsichild.OpUmask, int32(old), "")
	defer p.child.Do(nsichild.OpChdir, 0, before.Cwd)
	pr.Action = fmt.Sprintf("child chdir(%q), umask(%04o)", dir, mask)
	cwd, err := p.parentProc.Readlink("cwd")
	if err != nil {
		return failed(pr, "reading the parent's cwd", err)
	}
	st, err := p.parentProc.Status()
	if err != nil {
		return failed(pr, "reading the parent's status", err)
	}
	pr.Observed = fmt.Sprintf("parent's cwd %s, umask %04o", cwd, st.Umask)
	cwdShared, maskShared := cwd == dir, st.Umask == mask
	if cwdShared != maskShared {
		pr.Error = "cwd and umask disagree: " + pr.Observed
		return pr
	}
	pr.Shared = yes(cwdShared)
	return pr
}

// probeVM: the child stores a token in a global; with CLONE_VM the
// parent's memory (read through /proc/PID/mem, which works even while a
// CLONE_VFORK parent is suspended) holds it too.
func probeVM(p *pair, _ *report.Side) report.Probe {
	pr := report.Probe{Name: "memory", Resource: "vm"}
	token := int32(rand.Uint32()>>2) | 1
	if _, _, err := p.child.Do(nsichild.OpMemWrite, token, ""); err != nil {
		return failed(pr, "child write", err)
	}
	defer p.child.Do(nsichild.OpMemWrite, 0, "")
	addr := p.z.ProbeWordAddr()
	pr.Action = fmt.Sprintf("child stored %#x at %#x", token, addr)
	fd, err := p.parentProc.Openat("mem", unix.O_RDONLY)
	if err != nil {
		return failed(pr, "opening the parent's mem", err)
	}
	defer unix.Close(fd)
	var buf [8]byte
	if _, err := unix.Pread(fd, buf[:], int64(addr)); err != nil {
		return failed(pr, "reading the parent's mem", err)
	}
	got := binary.LittleEndian.Uint64(buf[:])
	pr.Observed = fmt.Sprintf("parent's word at %#x = %#x", addr, got)
	pr.Shared = yes(got == uint64(token))
	return pr
}

// probeSighand: the child installs a SIGUSR2 handler; with CLONE_SIGHAND
// the parent's SigCgt gains the bit.
func probeSighand(p *pair, _ *report.Side) report.Probe {
	pr := report.Probe{Name: "signal handler", Resource: "sighand"}
	bit := uint64(1) << (unix.SIGUSR2 - 1)
	st, err := p.parentProc.Status()
	if err != nil {
		return failed(pr, "reading the parent's status", err)
	}
	if st.SigCgt&bit != 0 {
		pr.Error = "the parent already catches SIGUSR2"
		return pr
	}
	if _, _, err := p.child.Do(nsichild.OpSigaction, int32(unix.SIGUSR2), ""); err != nil {
		return failed(pr, "child rt_sigaction(SIGUSR2)", err)
	}
	defer p.child.Do(nsichild.OpSigdfl, int32(unix.SIGUSR2), "")
	pr.Action = "child installed a SIGUSR2 handler"
	if st, err = p.parentProc.Status(); err != nil {
		return failed(pr, "reading the parent's status", err)
	}
	pr.Observed = fmt.Sprintf("parent's SigCgt %016x (SIGUSR2 bit %s)", st.SigCgt, onOff(st.SigCgt&bit != 0))
	pr.Shared = yes(st.SigCgt&bit != 0)
	return pr
}

func onOff(b bool) string {
	if b {
		return "set"
	}
	return "clear"
}

// probeMount: the child mounts a tmpfs in the lab's scratch /tmp; the
// parent sees it in its mountinfo when they share a mount namespace (the
// lab made every mount private, so nothing propagates between namespaces).
func probeMount(p *pair, _ *report.Side) report.Probe {
	pr := report.Probe{Name: "mount", Resource: "mnt"}
	if _, _, err := p.child.Do(nsichild.OpMountTmpfs, 0, probeDir); err != nil {
		return p.failedInUserns(pr, "child mount tmpfs on "+probeDir, err, "mount")
	}
	defer p.child.Do(nsichild.OpUmount, 0, probeDir)
	pr.Action = "child mounted a tmpfs on " + probeDir
	mounts, err := p.parentProc.MountInfo()
	if err != nil {
		return failed(pr, "reading the parent's mountinfo", err)
	}
	seen := false
	for _, m := range mounts {
		if m.MountPoint == probeDir && m.FSType == "tmpfs" {
			seen = true
		}
	}
	pr.Observed = fmt.Sprintf("parent's mountinfo %s %s", map[bool]string{true: "lists", false: "does not list"}[seen], probeDir)
	pr.Shared = yes(seen)
	return pr
}

// probeHostname: the child sets the hostname; the parent's uname follows
// when they share a UTS namespace.
func probeHostname(p *pair, before *report.Side) report.Probe {
	pr := report.Probe{Name: "hostname", Resource: "uts"}
	name := fmt.Sprintf("nsi-probe-%06x", rand.Uint32()&0xffffff)
	if _, _, err := p.child.Do(nsichild.OpSethostname, 0, name); err != nil {
		return p.failedInUserns(pr, "child sethostname", err, "UTS")
	}
	defer p.child.Do(nsichild.OpSethostname, 0, before.Hostname)
	pr.Action = fmt.Sprintf("child set hostname %q", name)
	got, err := hostnameOf(p.parentProc)
	if err != nil {
		return failed(pr, "reading the parent's hostname", err)
	}
	pr.Observed = fmt.Sprintf("parent's hostname %q", got)
	pr.Shared = yes(got == name)
	return pr
}

// probeIPC: the child creates a SysV shared memory segment, a SysV message
// queue and a POSIX message queue; the parent's IPC namespace has them
// when it is the same. All three must agree.
func probeIPC(p *pair, _ *report.Side) report.Probe {
	pr := report.Probe{Name: "sysv shm+msg, posix mq", Resource: "ipc"}
	key := int32(rand.Uint32()>>2) | 1
	mq := fmt.Sprintf("nsi-probe-%x", key)
	shmID, _, err := p.child.Do(nsichild.OpShmCreate, key, "")
	if err != nil {
		return failed(pr, "child shmget", err)
	}
	defer p.child.Do(nsichild.OpShmRm, int32(shmID), "")
	msgID, _, err := p.child.Do(nsichild.OpMsgCreate, key, "")
	if err != nil {
		return failed(pr, "child msgget", err)
	}
	defer p.child.Do(nsichild.OpMsgRm, int32(msgID), "")
	if _, _, err := p.child.Do(nsichild.OpMqCreate, 0, mq); err != nil {
		return failed(pr, "child mq_open", err)
	}
	defer p.child.Do(nsichild.OpMqUnlink, 0, mq)
	pr.Action = fmt.Sprintf("child created shm and msg queue with key %#x, POSIX mq /%s", key, mq)
	shmErr, msgErr, mqErr, err := ipcLookup(p.parentProc, int(key), int(key), mq)
	if err != nil {
		return failed(pr, "looking in the parent's IPC namespace", err)
	}
	seen := []bool{shmErr == nil, msgErr == nil, mqErr == nil}
	pr.Observed = fmt.Sprintf("in the parent's IPC namespace: shmget %s, msgget %s, mq_open %s", errText(shmErr), errText(msgErr), errText(mqErr))
	if seen[0] != seen[1] || seen[1] != seen[2] {
		pr.Error = "the three IPC objects disagree: " + pr.Observed
		return pr
	}
	pr.Shared = yes(seen[0])
	return pr
}

func errText(err error) string {
	if err == nil {
		return "found it"
	}
	var e unix.Errno
	if errors.As(err, &e) {
		return unix.ErrnoName(e)
	}
	return err.Error()
}

// probeNet: an address no one else uses (127.77.X.Y/32) is added to lo in
// the child's network namespace (by nsinspect, over netlink); the parent's
// namespace's lo has it when the namespace is the same. Every network
// namespace has lo, built into every kernel: the probe needs no module
// (it added a bridge once, which the cloud kernels build as bridge.ko).
func probeNet(p *pair, _ *report.Side) report.Probe {
	pr := report.Probe{Name: "net link", Resource: "net"}
	ch, closeC, err := netHandle(p.childProc)
	if err != nil {
		return failed(pr, "netlink in the child's network namespace", err)
	}
	defer closeC()
	lo, err := ch.LinkByName("lo")
	if err != nil {
		return failed(pr, "finding lo in the child's netns", err)
	}
	r := rand.Uint32()
	ip := net.IPv4(127, 77, byte(r>>8), byte(r)|1)
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: ip, Mask: net.CIDRMask(32, 32)}}
	if err := ch.AddrAdd(lo, addr); err != nil {
		return failed(pr, "adding "+ip.String()+" to lo in the child's netns", err)
	}
	defer ch.AddrDel(lo, addr)
	pr.Action = "added " + ip.String() + "/32 to lo in the child's network namespace"
	ph, closeP, err := netHandle(p.parentProc)
	if err != nil {
		return failed(pr, "netlink in the parent's network namespace", err)
	}
	defer closeP()
	plo, err := ph.LinkByName("lo")
	if err != nil {
		return failed(pr, "finding lo in the parent's netns", err)
	}
	addrs, err := ph.AddrList(plo, netlink.FAMILY_V4)
	if err != nil {
		return failed(pr, "listing lo's addresses in the parent's netns", err)
	}
	pr.Shared = yes(false)
	pr.Observed = "parent's lo has no " + ip.String()
	for _, a := range addrs {
		if a.IP.Equal(ip) {
			pr.Shared = yes(true)
			pr.Observed = "parent's lo has " + ip.String()
		}
	}
	return pr
}
