package procinfo

import (
	"errors"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/namespaces"
)

// Kind is what an fd refers to, decided from the link text of
// /proc/PID/fd/N and the st_mode of the file it leads to.
type Kind string

const (
	KindRegular   Kind = "regular"
	KindDir       Kind = "dir"
	KindSocket    Kind = "socket"
	KindPipe      Kind = "pipe"       // an anonymous pipe (pipefs)
	KindFIFO      Kind = "fifo"       // a named pipe with a path
	KindAnonInode Kind = "anon_inode" // eventfd, eventpoll, timerfd, signalfd, inotify, ...
	KindNsfs      Kind = "nsfs"       // a namespace file (open /proc/PID/ns/X)
	KindPidfd     Kind = "pidfd"
	KindMemfd     Kind = "memfd"
	KindChr       Kind = "chr"
	KindBlk       Kind = "blk"
	KindUnknown   Kind = "unknown"
)

// Classify decides an fd's kind from its link text and the st_mode that
// stat(2) through the link gave (0 when stat failed). For an anonymous
// inode it also returns the name the kernel gave it ("[eventfd]",
// "inotify").
//
// Anonymous inodes have no file type bits in st_mode at all, and nsfs
// files look like regular files, so the link text decides those; the mode
// decides the rest, because a path can be named anything.
func Classify(link string, mode uint32) (Kind, string) {
	if name, ok := strings.CutPrefix(link, "anon_inode:"); ok {
		if name == "[pidfd]" {
			return KindPidfd, ""
		}
		return KindAnonInode, name
	}
	if strings.HasPrefix(link, "pidfd:") { // pidfs naming, should it change
		return KindPidfd, ""
	}
	if _, _, ok := namespaces.ParseLinkString(link); ok {
		return KindNsfs, ""
	}
	k, ok := byMode[mode&unix.S_IFMT]
	switch {
	case !ok:
		return KindUnknown, ""
	case k.prefix != "" && strings.HasPrefix(link, k.prefix):
		return k.prefixed, ""
	}
	return k.kind, ""
}

// byMode is the kind of each file type, and for two of them the kind a
// link prefix makes it: an anonymous pipe is a fifo whose link reads
// "pipe:[INO]", a memfd a regular file whose link reads "/memfd:NAME
// (deleted)".
var byMode = map[uint32]struct {
	kind     Kind
	prefix   string
	prefixed Kind
}{
	unix.S_IFSOCK: {kind: KindSocket},
	unix.S_IFIFO:  {kind: KindFIFO, prefix: "pipe:[", prefixed: KindPipe},
	unix.S_IFDIR:  {kind: KindDir},
	unix.S_IFCHR:  {kind: KindChr},
	unix.S_IFBLK:  {kind: KindBlk},
	unix.S_IFREG:  {kind: KindRegular, prefix: "/memfd:", prefixed: KindMemfd},
}

// FD is one entry of a process's fd table.
type FD struct {
	Num      int
	Link     string // readlink of fd/N as the kernel names it, " (deleted)" included
	Mode     uint32 // st_mode through the link; 0 if stat failed
	Kind     Kind
	AnonName string // for KindAnonInode: "[eventfd]", "inotify", ...
	Info     FDInfo
	// NS is the namespace an nsfs fd refers to, identified through a fresh
	// open of fd/N; nil for other kinds or when NSErr is set.
	NS    *namespaces.NS
	NSErr error
}

// FDs reads the whole fd table, sorted by fd number. An fd closed while
// it is read is left out; the call fails only if the table cannot be
// listed or the process has exited by the end, so that nothing read from
// a reused PID is returned.
func (p *Proc) FDs() ([]FD, error) {
	nums, err := p.FDNumbers()
	if err != nil {
		return nil, err
	}
	out := make([]FD, 0, len(nums))
	for _, n := range nums {
		fd, err := p.FD(n)
		if errors.Is(err, ErrFDClosed) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, fd)
	}
	if err := p.Alive(); err != nil {
		return nil, err
	}
	return out, nil
}

// FDNumbers lists the numbers of the task's open fds (the entries of
// fd/), in ascending order.
func (p *Proc) FDNumbers() ([]int, error) { return p.dirIDs("fd") }

// ErrFDClosed matches the error of FD for an fd that was closed, or
// replaced by another file, while it was being read.
var ErrFDClosed = errors.New("fd was closed while it was read")

// FD reads one fd: its link, mode, kind and fdinfo, and for an nsfs fd
// the namespace.
//
// The fd can be closed and its number reused between the reads. The
// inode of the stat and the ino: of fdinfo must agree, and the link must
// read the same before and after; a few retries absorb a busy process,
// after which the fd is reported as closed rather than mixing two files.
func (p *Proc) FD(n int) (FD, error) {
	name := "fd/" + strconv.Itoa(n)
	for try := 0; try < 3; try++ {
		fd, same, err := p.readFD(n, name)
		if err != nil {
			if p.closed(err) {
				return FD{}, p.err("read", name, ErrFDClosed)
			}
			return FD{}, err
		}
		if same {
			return fd, nil
		}
	}
	return FD{}, p.err("read", name, ErrFDClosed)
}

func (p *Proc) readFD(n int, name string) (FD, bool, error) {
	fd := FD{Num: n}
	var err error
	if fd.Link, err = p.Readlink(name); err != nil {
		return fd, false, err
	}
	var st unix.Stat_t
	statErr := unix.Fstatat(p.dir, name, &st, 0)
	if statErr == nil {
		fd.Mode = st.Mode
	} else if errors.Is(statErr, unix.ENOENT) || errors.Is(statErr, unix.ESRCH) {
		return fd, false, p.err("stat", name, statErr)
	}
	if fd.Info, err = p.FDInfo(n); err != nil {
		return fd, false, err
	}
	if fd.Info.Ino == 0 && statErr == nil {
		// Before Linux 5.14 fdinfo has no ino: line. The inode comes from
		// the stat then, and a second stat after the fdinfo read stands in
		// for the agreement of the two.
		var st2 unix.Stat_t
		if err := unix.Fstatat(p.dir, name, &st2, 0); err != nil {
			return fd, false, p.err("stat", name, err)
		}
		if st2.Ino != st.Ino || st2.Dev != st.Dev {
			return fd, false, nil
		}
		fd.Info.Ino = st.Ino
	}
	fd.Kind, fd.AnonName = Classify(fd.Link, fd.Mode)
	if fd.Kind == KindNsfs {
		fd.NS, fd.NSErr = p.fdNamespace(name)
	}
	again, err := p.readlinkIs(name, fd.Link)
	if err != nil {
		return fd, false, err
	}
	same := again && (statErr != nil || fd.Info.Ino == 0 || fd.Info.Ino == st.Ino)
	return fd, same, nil
}

// fdNamespace opens fd/N of the pinned directory (which reopens the nsfs
// file the fd refers to) and identifies the namespace by NS_GET_ID.
func (p *Proc) fdNamespace(name string) (*namespaces.NS, error) {
	nsfd, err := p.Openat(name, unix.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer unix.Close(nsfd)
	ns, err := namespaces.FromFD(nsfd)
	if err != nil {
		return nil, p.err("identify namespace of", name, err)
	}
	return &ns, nil
}

// closed reports whether err says an fd entry vanished while the process
// lives on.
func (p *Proc) closed(err error) bool {
	return errors.Is(err, unix.ENOENT) && p.Alive() == nil
}
