package procinfo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/features"
	"github.com/nsinspect/nsinspect/internal/linux"
)

// Root is where procfs is mounted. Tests of the pinning logic never change
// it; it exists so a lab with its own /proc can say so.
var Root = "/proc"

// Proc is one pinned task: a whole process (TID == 0 or TID == PID) or one
// thread. It holds two file descriptors until Close.
type Proc struct {
	PID   int
	TID   int // the thread read, PID for the leader
	pidfd int
	dir   int // /proc/PID or /proc/PID/task/TID
}

// Open pins process pid. The error matches ErrProcessGone when no such
// process exists.
func Open(pid int) (*Proc, error) { return OpenTask(pid, pid) }

// OpenTask pins thread tid of process pid and reads through
// /proc/PID/task/TID. With tid == pid it reads /proc/PID, where the
// process-wide files (fd, net) are.
func OpenTask(pid, tid int) (*Proc, error) {
	if pid <= 0 || tid <= 0 {
		return nil, &Error{PID: pid, TID: tid, Op: "open", Err: fmt.Errorf("%w: not a valid pid", unix.ESRCH)}
	}
	pidfd, err := linux.PidfdOpen(pid)
	if err != nil {
		if isErr(err, unix.ENOSYS) {
			// Before 5.3 (or hidden by seccomp) nothing can pin a task.
			if merr := features.Missing(features.PidfdOpen, fmt.Sprintf("pinning pid %d", pid)); merr != nil {
				return nil, merr
			}
		}
		if os.IsNotExist(err) || isErr(err, unix.EINVAL) {
			// EINVAL: pid names a thread that is not a group leader.
			err = fmt.Errorf("%w (%v)", unix.ESRCH, err)
		}
		return nil, &Error{PID: pid, TID: tid, Op: "open", Err: err}
	}
	path := Root + "/" + strconv.Itoa(pid)
	if tid != pid {
		path += "/task/" + strconv.Itoa(tid)
	}
	dir, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(pidfd)
		return nil, &Error{PID: pid, TID: tid, Op: "open", Err: err}
	}
	p := &Proc{PID: pid, TID: tid, pidfd: pidfd, dir: dir}
	// The directory was looked up by number after the pidfd was taken: if
	// the number was reused in between, the pidfd's process is dead now.
	if err := p.Alive(); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// Self pins nsinspect's own process.
func Self() (*Proc, error) { return Open(os.Getpid()) }

// Close releases the pin.
func (p *Proc) Close() error {
	if p == nil || p.dir < 0 {
		return nil
	}
	unix.Close(p.dir)
	unix.Close(p.pidfd)
	p.dir, p.pidfd = -1, -1
	return nil
}

// Pidfd returns the pidfd that pins the process (owned by p).
func (p *Proc) Pidfd() int { return p.pidfd }

// Dirfd returns the pinned /proc directory fd (owned by p).
func (p *Proc) Dirfd() int { return p.dir }

// IsThread reports whether p reads a thread other than the leader.
func (p *Proc) IsThread() bool { return p.TID != p.PID }

// Alive returns nil while the process has not exited, else an error that
// matches ErrProcessGone. Call it after a series of reads to know they all
// described the living process.
func (p *Proc) Alive() error {
	if err := linux.PidfdAlive(p.pidfd); err != nil {
		return p.err("check", "", err)
	}
	return nil
}

// err makes the error about path. It keeps a copy of path, so that the
// names the readers build ("fd/"+N, "fdinfo/"+N) stay on their stack.
func (p *Proc) err(op, path string, err error) error {
	tid := p.TID
	if tid == p.PID {
		tid = 0
	}
	e := &Error{PID: p.PID, TID: tid, Op: op, Path: strings.Clone(path), Err: err}
	// A lookup in the directory of a process that is being reaped can
	// say ENOENT, even for status, which every task has (found by
	// integration.TestRaceUnderChurn; TestReadWhileReaped), and ESRCH
	// once it is reaped. The pidfd tells that ENOENT from a file missing
	// in a task that is still there.
	if path != "" && errors.Is(err, unix.ENOENT) && p.pidfd >= 0 && linux.PidfdAlive(p.pidfd) != nil {
		e.reaped = true
	}
	return e
}

// ReadFile returns the contents of a file under the task's directory.
func (p *Proc) ReadFile(name string) ([]byte, error) {
	var out []byte
	err := p.readWith(name, func(b []byte) error {
		out = bytes.Clone(b)
		return nil
	})
	return out, err
}

// readWith reads a file under the task's directory whole, to end of file,
// into a pooled buffer, and calls fn with the bytes, which are only valid
// until fn returns. It reads until read(2) returns 0, however short a
// read was: a seq_file of many records (mountinfo) hands out at most its
// own buffer's worth, a page to start with, per read.
func (p *Proc) readWith(name string, fn func([]byte) error) error {
	fd, err := unix.Openat(p.dir, name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return p.err("open", name, err)
	}
	defer unix.Close(fd)
	bp := getBuf()
	b := (*bp)[:0]
	defer func() { putBuf(bp, b) }()
	for {
		b = grow(b)
		n, err := unix.Read(fd, b[len(b):cap(b)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return p.err("read", name, err)
		}
		if n == 0 {
			break
		}
		b = b[:len(b)+n]
	}
	return fn(b)
}

// OpenFile opens a file under the task's directory for reading.
func (p *Proc) OpenFile(name string) (*os.File, error) {
	fd, err := unix.Openat(p.dir, name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, p.err("open", name, err)
	}
	return os.NewFile(uintptr(fd), Root+"/"+strconv.Itoa(p.PID)+"/"+name), nil
}

// Openat opens name under the task's directory with the given flags and
// returns the raw fd, which the caller closes.
func (p *Proc) Openat(name string, flags int) (int, error) {
	fd, err := unix.Openat(p.dir, name, flags|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, p.err("open", name, err)
	}
	return fd, nil
}

// Readlink reads a symbolic link under the task's directory (cwd, root,
// exe, fd/N, ns/net).
func (p *Proc) Readlink(name string) (string, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Readlinkat(p.dir, name, buf)
		if err != nil {
			return "", p.err("readlink", name, err)
		}
		if n < len(buf) {
			return string(buf[:n]), nil
		}
		buf = make([]byte, 2*len(buf))
	}
}

// readlinkIs reports whether a symbolic link under the task's directory
// reads want, without keeping what it read.
func (p *Proc) readlinkIs(name, want string) (bool, error) {
	var buf [256]byte
	n, err := unix.Readlinkat(p.dir, name, buf[:])
	if err != nil {
		return false, p.err("readlink", name, err)
	}
	if n < len(buf) {
		return string(buf[:n]) == want, nil
	}
	link, err := p.Readlink(name)
	return link == want, err
}

// ReadDirNames lists a directory under the task's directory (fd, task, ns).
func (p *Proc) ReadDirNames(name string) ([]string, error) {
	names := []string{}
	if err := p.eachDirent(name, func(n []byte) { names = append(names, string(n)) }); err != nil {
		return nil, err
	}
	return names, nil
}

// dirIDs lists the entries of a directory under the task's directory
// whose names are numbers (fd, task), sorted.
func (p *Proc) dirIDs(name string) ([]int, error) {
	ids := make([]int, 0, 16)
	err := p.eachDirent(name, func(n []byte) {
		if id, err := strconv.Atoi(string(n)); err == nil {
			ids = append(ids, id)
		}
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(ids)
	return ids, nil
}

// Offsets in struct linux_dirent64 (getdents64(2)), the same on every
// architecture: d_ino (u64), d_off (s64), d_reclen (u16), d_type (u8),
// then d_name, NUL-terminated.
const (
	direntReclen = 16
	direntName   = 19
)

// eachDirent calls fn with the name of each entry of a directory under the
// task's directory, in the kernel's order, leaving out ".", ".." and
// entries without an inode as os.File.Readdirnames does; the name is only
// valid during the call.
func (p *Proc) eachDirent(name string, fn func(name []byte)) error {
	fd, err := unix.Openat(p.dir, name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return p.err("open", name, err)
	}
	defer unix.Close(fd)
	bp := getBuf()
	buf := (*bp)[:cap(*bp)]
	defer putBuf(bp, buf)
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return p.err("read", name, err)
		}
		if n <= 0 {
			return nil
		}
		for b := buf[:n]; len(b) >= direntName; {
			reclen := int(binary.NativeEndian.Uint16(b[direntReclen:]))
			if reclen < direntName || reclen > len(b) {
				break
			}
			rec := b[:reclen]
			b = b[reclen:]
			ent, _, _ := bytes.Cut(rec[direntName:], []byte{0})
			if binary.NativeEndian.Uint64(rec) == 0 || string(ent) == "." || string(ent) == ".." {
				continue
			}
			fn(ent)
		}
	}
}

func isErr(err error, errno unix.Errno) bool {
	if se, ok := err.(*os.SyscallError); ok {
		return se.Err == errno
	}
	return err == errno
}

// readParsed reads a file under the task's directory and parses it with
// one of the parsers behind the exported Parse* functions; a parse error
// names the task and the file.
func readParsed[T any](p *Proc, name string, parse func(text []byte, readErr error) (T, error)) (T, error) {
	var v T
	err := p.readWith(name, func(b []byte) error {
		var err error
		if v, err = parse(b, nil); err != nil {
			return p.err("parse", name, err)
		}
		return nil
	})
	return v, err
}
