package discover

import (
	"encoding/binary"
	"errors"

	"golang.org/x/sys/unix"
)

// The helpers here run a few times per process on a host with thousands
// of processes, so they reuse caller buffers instead of allocating.

// openDir opens the directory dirfd/name.
func openDir(dirfd int, name string) (int, error) {
	return unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
}

// readDir calls fn with the name of each entry of the directory at
// dirfd/name, skipping "." and "..". name aliases buf and is only valid
// during the call.
func readDir(dirfd int, name string, buf []byte, fn func(name []byte)) error {
	fd, err := openDir(dirfd, name)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return listDir(fd, buf, fn)
}

// listDir is readDir on an open directory. It reads until getdents
// returns 0 even when a call left room in the buffer: /proc stops a call
// early when an entry vanishes under it (proc_fill_cache fails for a
// process or fd that just went away), so a short read is not the end.
func listDir(fd int, buf []byte, fn func(name []byte)) error {
	for {
		n, err := unix.Getdents(fd, buf)
		if err != nil {
			return err
		}
		if n <= 0 {
			return nil
		}
		if err := eachDirent(buf[:n], fn); err != nil {
			return err
		}
	}
}

// eachDirent walks the linux_dirent64 records getdents64(2) filled in:
// u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, then the NUL-terminated
// name.
func eachDirent(b []byte, fn func(name []byte)) error {
	const nameOff = 19
	for len(b) > 0 {
		if len(b) < nameOff {
			return errShortDirent
		}
		reclen := int(binary.NativeEndian.Uint16(b[16:18]))
		if reclen <= nameOff || reclen > len(b) {
			return errShortDirent
		}
		name := b[nameOff:reclen]
		for i, c := range name {
			if c == 0 {
				name = name[:i]
				break
			}
		}
		if !(len(name) == 1 && name[0] == '.') && !(len(name) == 2 && name[0] == '.' && name[1] == '.') {
			fn(name)
		}
		b = b[reclen:]
	}
	return nil
}

var errShortDirent = errors.New("getdents64: malformed record")

// readFile reads the file at dirfd/name into buf, growing it when the file
// does not fit, and returns the bytes read.
func readFile(dirfd int, name string, buf *[]byte) ([]byte, error) {
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	b := (*buf)[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := unix.Read(fd, b[len(b):cap(b)])
		if err != nil {
			*buf = b
			return nil, err
		}
		if n == 0 {
			*buf = b
			return b, nil
		}
		b = b[:len(b)+n]
	}
}

// readlink reads the link at dirfd/name into buf. nsfs and fd links of
// interest are short; a longer target (a path) is reported as truncated
// with ok false, which callers treat as "not a namespace".
func readlink(dirfd int, name string, buf []byte) (b []byte, ok bool, err error) {
	n, err := unix.Readlinkat(dirfd, name, buf)
	if err != nil {
		return nil, false, err
	}
	return buf[:n], n < len(buf), nil
}
