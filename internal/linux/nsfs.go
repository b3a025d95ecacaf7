package linux

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// NsGetID returns the 64-bit namespace id (NS_GET_ID, Linux 6.11+). Unlike
// the inode number it is never reused while the system runs.
func NsGetID(fd int) (uint64, error) {
	return ioctlU64(fd, unix.NS_GET_ID, "ioctl NS_GET_ID")
}

func ioctlU64(fd int, req uint, what string) (uint64, error) {
	var v uint64
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(unsafe.Pointer(&v)))
	if errno != 0 {
		return 0, os.NewSyscallError(what, errno)
	}
	return v, nil
}

// NsGetType returns the CLONE_NEW* value of the namespace fd refers to.
func NsGetType(fd int) (uint64, error) {
	t, err := unix.IoctlRetInt(fd, unix.NS_GET_NSTYPE)
	if err != nil {
		return 0, os.NewSyscallError("ioctl NS_GET_NSTYPE", err)
	}
	return uint64(t), nil
}

// NsGetUserns returns a new O_CLOEXEC fd on the user namespace that owns
// the namespace fd refers to.
func NsGetUserns(fd int) (int, error) {
	r, err := unix.IoctlRetInt(fd, unix.NS_GET_USERNS)
	if err != nil {
		return -1, os.NewSyscallError("ioctl NS_GET_USERNS", err)
	}
	return r, nil
}

// NsGetParent returns a new fd on the parent of a pid or user namespace.
// EPERM means the parent is outside the caller's view (the top); EINVAL
// means the type has no hierarchy.
func NsGetParent(fd int) (int, error) {
	r, err := unix.IoctlRetInt(fd, unix.NS_GET_PARENT)
	if err != nil {
		return -1, os.NewSyscallError("ioctl NS_GET_PARENT", err)
	}
	return r, nil
}
