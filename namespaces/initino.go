package namespaces

import (
	"os"

	"golang.org/x/sys/unix"
)

// The inode numbers the kernel gives each type's initial namespace
// (PROC_*_INIT_INO in include/linux/proc_ns.h, the enum init_ns_ino of
// include/uapi/linux/nsfs.h). Dynamic inode numbers come from
// proc_alloc_inum, which starts above them (PROC_DYNAMIC_FIRST,
// 0xF0000000), so an inode equal to one of these is the initial
// namespace. The pid one is fixed since Linux 3.8; net and mnt only since
// 6.17 (before, the initial net and mount namespaces were numbered like
// any other).
const (
	ProcIPCInitIno    = 0xEFFFFFFF
	ProcUTSInitIno    = 0xEFFFFFFE
	ProcUserInitIno   = 0xEFFFFFFD
	ProcPIDInitIno    = 0xEFFFFFFC
	ProcCgroupInitIno = 0xEFFFFFFB
	ProcTimeInitIno   = 0xEFFFFFFA
	ProcNetInitIno    = 0xEFFFFFF9
	ProcMntInitIno    = 0xEFFFFFF8
)

// InInitialPIDNamespace reports whether the process whose
// PROCROOT/self/ns/pid this is runs in the kernel's initial pid
// namespace: one stat(2) says so. procRoot is "/proc", or another pid
// namespace's proc mount.
func InInitialPIDNamespace(procRoot string) (bool, error) {
	var st unix.Stat_t
	path := procRoot + "/self/ns/pid"
	if err := unix.Stat(path, &st); err != nil {
		return false, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	return st.Ino == ProcPIDInitIno, nil
}
