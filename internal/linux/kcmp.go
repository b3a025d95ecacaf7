package linux

import (
	"os"

	"golang.org/x/sys/unix"
)

// KcmpType selects the kernel resource kcmp(2) compares. x/sys has
// SYS_KCMP but neither a wrapper nor these constants (linux/kcmp.h).
type KcmpType int

const (
	KCMP_FILE    KcmpType = 0 // one open file description (needs idx1, idx2)
	KCMP_VM      KcmpType = 1 // mm_struct: CLONE_VM
	KCMP_FILES   KcmpType = 2 // files_struct, the fd table: CLONE_FILES
	KCMP_FS      KcmpType = 3 // fs_struct, root/cwd/umask: CLONE_FS
	KCMP_SIGHAND KcmpType = 4 // sighand_struct: CLONE_SIGHAND
	KCMP_IO      KcmpType = 5 // io_context: CLONE_IO (NULL until first use)
	KCMP_SYSVSEM KcmpType = 6 // sysv_sem undo list: CLONE_SYSVSEM (NULL until first use)
)

var kcmpNames = [...]string{"KCMP_FILE", "KCMP_VM", "KCMP_FILES", "KCMP_FS", "KCMP_SIGHAND", "KCMP_IO", "KCMP_SYSVSEM"}

func (t KcmpType) String() string {
	if t >= 0 && int(t) < len(kcmpNames) {
		return kcmpNames[t]
	}
	return "KCMP_?"
}

// Kcmp compares a kernel resource of two processes. It returns 0 when the
// two point at the same kernel object, 1 or 2 when they differ (an order the
// kernel defines on the obfuscated pointers), 3 when they are not
// comparable.
func Kcmp(pid1, pid2 int, typ KcmpType, idx1, idx2 uintptr) (int, error) {
	r, _, errno := unix.Syscall6(unix.SYS_KCMP, uintptr(pid1), uintptr(pid2), uintptr(typ), idx1, idx2, 0)
	if errno != 0 {
		return -1, os.NewSyscallError("kcmp", errno)
	}
	return int(r), nil
}
