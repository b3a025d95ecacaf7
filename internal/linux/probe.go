package linux

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The wrappers below exist so that package features can ask the kernel
// whether it has an interface. Each is one system call; none changes any
// state that outlives it.

// NS_MNT_GET_INFO and NS_MNT_GET_NEXT (Linux 6.12) are
// _IOR(NSIO, 10/11, struct mnt_ns_info); x/sys has neither.
const (
	NS_MNT_GET_INFO = 0x8010b70a
	NS_MNT_GET_NEXT = 0x8010b70b
)

// mntNsInfo is struct mnt_ns_info, MNT_NS_INFO_SIZE_VER0 (16 bytes).
type mntNsInfo struct {
	Size     uint32
	NrMounts uint32
	MntNsID  uint64
}

// NsMntGetInfo asks NS_MNT_GET_INFO of a mount namespace fd and returns its
// number of mounts.
func NsMntGetInfo(fd int) (uint32, error) {
	info := mntNsInfo{Size: uint32(unsafe.Sizeof(mntNsInfo{}))}
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), NS_MNT_GET_INFO, uintptr(unsafe.Pointer(&info)))
	if errno != 0 {
		return 0, os.NewSyscallError("ioctl NS_MNT_GET_INFO", errno)
	}
	return info.NrMounts, nil
}

// PIDFD_GET_<TYPE>_NAMESPACE (Linux 6.11) are _IO(PIDFS_IOCTL_MAGIC, 1..10)
// on a pidfd; x/sys has none of them. Only those nsinspect asks are named.
const (
	PIDFD_GET_NET_NAMESPACE              = 0xff04
	PIDFD_GET_PID_FOR_CHILDREN_NAMESPACE = 0xff06
)

// PidfdGetNamespace returns a new fd on a namespace of the process behind
// pidfd, for one of the PIDFD_GET_*_NAMESPACE requests.
func PidfdGetNamespace(pidfd int, req uint) (int, error) {
	r, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(pidfd), uintptr(req), 0)
	if errno != 0 {
		return -1, os.NewSyscallError("ioctl PIDFD_GET_NAMESPACE", errno)
	}
	return int(r), nil
}

// pidfdGetInfoVer0 is PIDFD_GET_INFO as Linux 6.13 defined it, with the
// 64-byte struct pidfd_info of PIDFD_INFO_SIZE_VER0. x/sys's constant
// encodes a later, larger struct; the kernel takes any size from VER0 up,
// and the oldest kernel with the ioctl takes only this one.
const pidfdGetInfoVer0 = 0xc040ff0b

// PidfdGetInfo asks PIDFD_GET_INFO for the pid (PIDFD_INFO_PID) of the
// process behind pidfd, as the pidfd's own pid namespace sees it.
func PidfdGetInfo(pidfd int) (uint32, error) {
	var info [unix.PIDFD_INFO_SIZE_VER0]byte
	*(*uint64)(unsafe.Pointer(&info[0])) = unix.PIDFD_INFO_PID
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(pidfd), pidfdGetInfoVer0, uintptr(unsafe.Pointer(&info[0])))
	if errno != 0 {
		return 0, os.NewSyscallError("ioctl PIDFD_GET_INFO", errno)
	}
	return *(*uint32)(unsafe.Pointer(&info[16])), nil
}

// cloneArgs is struct clone_args up to CLONE_ARGS_SIZE_VER2 (88 bytes,
// the size that carries the cgroup field).
type cloneArgs struct {
	Flags, Pidfd, ChildTID, ParentTID, ExitSignal, Stack, StackSize, TLS, SetTID, SetTIDSize, Cgroup uint64
}

// Clone3Refused calls clone3(2) with flags and CLONE_INTO_CGROUP on
// notCgroup, an open fd that is not a cgroup directory, and returns the
// errno. The kernel validates the flags first (EINVAL for one it does not
// know) and refuses the cgroup fd later in copy_process (EBADF, before the
// task can ever run), so no process is created. Should a kernel create one
// anyway, the copy exits at once and is reaped here.
func Clone3Refused(flags uint64, notCgroup int) error {
	args := cloneArgs{Flags: flags | unix.CLONE_INTO_CGROUP, ExitSignal: uint64(unix.SIGCHLD), Cgroup: uint64(notCgroup)}
	r, _, errno := unix.RawSyscall(unix.SYS_CLONE3, uintptr(unsafe.Pointer(&args)), unsafe.Sizeof(args), 0)
	if errno == 0 && r == 0 {
		unix.RawSyscall(unix.SYS_EXIT_GROUP, 0, 0, 0) // the impossible child
	}
	if errno == 0 {
		var ws unix.WaitStatus
		unix.Wait4(int(r), &ws, 0, nil)
		return nil
	}
	return os.NewSyscallError("clone3", errno)
}

// Clone3Exists calls clone3(NULL, 0): EINVAL (a size below
// CLONE_ARGS_SIZE_VER0) where the system call exists, ENOSYS where it does
// not or a seccomp filter hides it.
func Clone3Exists() error {
	_, _, errno := unix.RawSyscall(unix.SYS_CLONE3, 0, 0, 0)
	return os.NewSyscallError("clone3", errno)
}

// CloseRangeNone calls close_range(2) on the one fd number that can never
// be open (~0U): 0 where the system call exists, ENOSYS where not.
func CloseRangeNone() error {
	if err := unix.CloseRange(^uint(0)>>32, ^uint(0)>>32, 0); err != nil {
		return os.NewSyscallError("close_range", err)
	}
	return nil
}

// ListnsExists calls listns(2) (Linux 6.19) with a NULL request: EFAULT or
// EINVAL where it exists, ENOSYS where not.
func ListnsExists() error {
	_, _, errno := unix.RawSyscall6(unix.SYS_LISTNS, 0, 0, 0, 0, 0, 0)
	return os.NewSyscallError("listns", errno)
}

// BPFArrayMapCreate creates a one-entry BPF array map (BPF_MAP_CREATE) and
// closes it at once: the smallest object the bpf(2) system call charges.
func BPFArrayMapCreate() error {
	attr := struct {
		MapType, KeySize, ValueSize, MaxEntries, MapFlags uint32
	}{MapType: unix.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 1}
	fd, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_MAP_CREATE, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	if errno != 0 {
		return os.NewSyscallError("bpf BPF_MAP_CREATE", errno)
	}
	unix.Close(int(fd))
	return nil
}

// NS_GET_PID_FROM_PIDNS is _IOR(NSIO, 0x6, int) (linux/nsfs.h, Linux 6.9;
// the argument is the pid itself, not a pointer to it).
const NS_GET_PID_FROM_PIDNS = 0x8004b706

// PidFromPidns translates pid, a pid in the pid namespace nsfd refers to,
// into the caller's pid namespace: ESRCH when no task has that pid there.
func PidFromPidns(nsfd, pid int) (int, error) {
	r, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(nsfd), NS_GET_PID_FROM_PIDNS, uintptr(pid))
	if errno != 0 {
		return -1, os.NewSyscallError("ioctl NS_GET_PID_FROM_PIDNS", errno)
	}
	return int(r), nil
}
