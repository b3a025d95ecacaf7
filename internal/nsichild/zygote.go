package nsichild

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// ZygoteArg0 is the argv[0] under which nsinspect's executable runs as a
// zygote: nsi_zygote.c's constructor recognises it and runs the zygote
// before the Go runtime starts.
const ZygoteArg0 = "nsinspect-zygote"

// The zygote's requests (enum nsi_zop); abi.go checks them.
const (
	zHello uint32 = iota + 1
	zSpawn
	zReap
)

// zmsg is struct nsi_zmsg: 128 bytes, no padding (abi.go checks it).
type zmsg struct {
	Op         uint32
	Cgroup     int32
	Ret        int64
	Flags      uint64
	ExitSignal int32
	UseClone3  int32
	ProbeWord  uint64
	Str        [88]byte
}

// ErrStart means the zygote's process could not be made at all: for a lab,
// no privilege for its namespaces.
var ErrStart = errors.New("cannot start the zygote")

// Zygote is a running zygote (nsi_zygote.c): a process started from
// nsinspect's executable that never runs Go, which forks each
// experiment's parent and reaps everything the experiment made. Parents
// forked from it copy a few pages; forked from nsinspect, they made the
// Go process pay a copy-on-write fault for every page it wrote while they
// lived. One request at a time.
type Zygote struct {
	mu        sync.Mutex
	pid       int
	fd        int // our end of the SOCK_SEQPACKET socket
	probeWord uintptr
	closed    bool
}

// ZygoteMode says where a zygote runs and what it sets up (nsi_zygote.c).
type ZygoteMode string

const (
	// ZygoteLab is PID 1 of a lab in the namespaces attr.Cloneflags
	// makes: it makes the mounts private, mounts its own /proc and /tmp,
	// names the lab and makes the time namespace its parents are born in.
	ZygoteLab ZygoteMode = "lab"
	// ZygoteHost only becomes the subreaper of what it forks.
	ZygoteHost ZygoteMode = "host"
	// ZygoteTimens is ZygoteHost that also makes the time namespace its
	// parents are born in, for a lab that is already set up but must not
	// unshare CLONE_NEWTIME itself: Linux 6.1 refuses the CLONE_VM fork
	// that syscall.ForkExec makes from a process whose children's time
	// namespace is not its own (EINVAL; 6.12 allows it with CLONE_VFORK).
	ZygoteTimens ZygoteMode = "timens"
)

// StartZygote starts a zygote in the given mode. attr should carry
// Pdeathsig, so that the zygote, and through theirs every process it
// made, dies with the caller.
func StartZygote(mode ZygoteMode, attr *syscall.SysProcAttr) (*Zygote, error) {
	if err := Supported(); err != nil {
		return nil, err
	}
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socketpair for the zygote: %w", err)
	}
	defer unix.Close(pair[1])
	// A zygote that stops answering is a bug; RequestTimeout bounds
	// every wait for it, as for the parked processes.
	tv := unix.NsecToTimeval(RequestTimeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(pair[0], unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		unix.Close(pair[0])
		return nil, fmt.Errorf("setting the zygote socket's timeout: %w", err)
	}
	null, err := unix.Open("/dev/null", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(pair[0])
		return nil, fmt.Errorf("opening /dev/null for the zygote: %w", err)
	}
	defer unix.Close(null)
	// syscall.ForkExec rather than os/exec: os.StartProcess first probes
	// pidfd support by forking and reaping a throwaway child, once per
	// process, which is a measurable part of a one-experiment run.
	files := []uintptr{uintptr(null), uintptr(null), uintptr(null), uintptr(pair[1])}
	pid, err := syscall.ForkExec("/proc/self/exe", []string{ZygoteArg0, string(mode)}, &syscall.ProcAttr{Env: []string{}, Files: files, Sys: attr})
	if err != nil {
		unix.Close(pair[0])
		return nil, fmt.Errorf("%w: %v", ErrStart, err)
	}
	z := &Zygote{pid: pid, fd: pair[0]}
	var hello zmsg
	if _, err := z.recv(&hello); err != nil {
		z.Close()
		return nil, fmt.Errorf("the zygote did not start: %w", err)
	}
	if hello.Op != zHello || hello.Ret < 0 {
		z.Close()
		what := cString(hello.Str[:])
		if what == "" {
			what = "starting the zygote"
		}
		return nil, fmt.Errorf("%s: %w", what, syscall.Errno(-hello.Ret))
	}
	z.probeWord = uintptr(hello.ProbeWord)
	return z, nil
}

// PID is the zygote's pid in the caller's pid namespace.
func (z *Zygote) PID() int { return z.pid }

// ProbeWordAddr is the address of nsi_probe_word, the global the memory
// probe's child writes, in the zygote and in every parent forked from it
// (which need not be its address in nsinspect: the zygote is a fresh
// execve, with its own load address).
func (z *Zygote) ProbeWordAddr() uintptr { return z.probeWord }

// Spawn forks the experiment's parent from the zygote and returns its pid
// in the caller's pid namespace and a pidfd on it (the caller closes it).
// ends are the four pipe ends NewSide returned, parent's first; the parent
// keeps them as fds 3 to 6, and e.CgroupFD, if any, as fd 7. The zygote
// reaps the parent (Reap).
func (z *Zygote) Spawn(e Experiment, ends [4]*os.File) (pid, pidfd int, err error) {
	fds := make([]int, 0, 5)
	for _, f := range ends {
		fd, err := rawFD(f)
		if err != nil {
			return -1, -1, err
		}
		fds = append(fds, fd)
	}
	m := zmsg{Op: zSpawn, Flags: e.Flags, ExitSignal: int32(e.ExitSignal)}
	if e.Clone3 {
		m.UseClone3 = 1
	}
	if e.CgroupFD >= 0 {
		m.Cgroup = 1
		fds = append(fds, e.CgroupFD)
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	r, pidfd, err := z.do(&m, fds)
	if err != nil {
		return -1, -1, err
	}
	if r.Ret < 0 {
		return -1, -1, fmt.Errorf("cloning the experiment's parent: %w", os.NewSyscallError("clone", syscall.Errno(-r.Ret)))
	}
	if pidfd < 0 {
		return -1, -1, errors.New("the zygote sent no pidfd with the experiment's parent")
	}
	if pid, err = pidOfPidfd(pidfd); err != nil {
		unix.Close(pidfd)
		return -1, -1, err
	}
	return pid, pidfd, nil
}

// Reap has the zygote SIGKILL every child it has and reap them until none
// is left: the parent it forked, a CLONE_PARENT child, and every orphan
// of the experiment, which the kernel hands to the zygote (PID 1 of the
// lab, or a subreaper) before their parent can be reaped.
func (z *Zygote) Reap() error {
	z.mu.Lock()
	defer z.mu.Unlock()
	r, fd, err := z.do(&zmsg{Op: zReap}, nil)
	if fd >= 0 {
		unix.Close(fd)
	}
	if err == nil && r.Ret < 0 {
		err = syscall.Errno(-r.Ret)
	}
	if err != nil {
		return fmt.Errorf("reaping the experiment: %w", err)
	}
	return nil
}

// Close ends the zygote: on end of file it reaps what is left and exits,
// and Close waits for it. A lab's zygote is its PID 1, so the lab's
// namespaces go with it.
func (z *Zygote) Close() error {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.closed {
		return nil
	}
	z.closed = true
	unix.Close(z.fd)
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(z.pid, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("waiting for the zygote %d: %w", z.pid, err)
		}
		break
	}
	if !ws.Exited() || ws.ExitStatus() != 0 {
		return fmt.Errorf("the zygote %d ended with status %#x", z.pid, uint32(ws))
	}
	return nil
}

func (z *Zygote) do(m *zmsg, fds []int) (zmsg, int, error) {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, m)
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	if z.closed {
		return zmsg{}, -1, errors.New("the zygote is closed")
	}
	if err := unix.Sendmsg(z.fd, b.Bytes(), oob, nil, unix.MSG_NOSIGNAL); err != nil {
		return zmsg{}, -1, fmt.Errorf("writing to the zygote: %w", err)
	}
	var r zmsg
	fd, err := z.recv(&r)
	if err != nil {
		return zmsg{}, -1, err
	}
	if r.Op != m.Op {
		if fd >= 0 {
			unix.Close(fd)
		}
		return zmsg{}, -1, fmt.Errorf("the zygote answered request %d with %d", m.Op, r.Op)
	}
	return r, fd, nil
}

// recv reads one message and the fd sent with it (-1 for none).
func (z *Zygote) recv(r *zmsg) (int, error) {
	buf := make([]byte, binary.Size(r))
	oob := make([]byte, unix.CmsgSpace(4))
	for {
		n, oobn, flags, _, err := unix.Recvmsg(z.fd, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			return -1, fmt.Errorf("%w from the zygote within %v", ErrNoReply, RequestTimeout)
		}
		if err != nil {
			return -1, fmt.Errorf("reading from the zygote: %w", err)
		}
		if n == 0 {
			return -1, errors.New("the zygote exited")
		}
		fd := -1
		if oobn > 0 {
			if cms, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
				for _, c := range cms {
					if rights, err := unix.ParseUnixRights(&c); err == nil {
						for _, f := range rights {
							if fd < 0 {
								fd = f
							} else {
								unix.Close(f)
							}
						}
					}
				}
			}
		}
		if n != len(buf) || flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
			if fd >= 0 {
				unix.Close(fd)
			}
			return -1, fmt.Errorf("the zygote sent a message of %d bytes, want %d", n, len(buf))
		}
		binary.Read(bytes.NewReader(buf), binary.LittleEndian, r)
		return fd, nil
	}
}

// pidOfPidfd reads the pid a pidfd refers to, as this process's /proc
// numbers it: the "Pid:" line of its fdinfo, which is the pid in the pid
// namespace of the procfs instance read, -1 once the process has exited.
func pidOfPidfd(pidfd int) (int, error) {
	b, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(pidfd))
	if err != nil {
		return -1, fmt.Errorf("reading the experiment parent's pidfd: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Pid:"); ok {
			pid, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || pid <= 0 {
				return -1, fmt.Errorf("the experiment's parent exited as it started (pidfd says pid %q)", strings.TrimSpace(v))
			}
			return pid, nil
		}
	}
	return -1, errors.New("the experiment parent's pidfd has no Pid line in its fdinfo")
}
