package namespaces

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// The kernel fact InInitialPIDNamespace relies on: the initial pid
// namespace is inode PROC_PID_INIT_INO, and a namespace made later has an
// inode from proc_alloc_inum, at or above PROC_DYNAMIC_FIRST (0xF0000000),
// never one of the fixed ones.
func TestInInitialPIDNamespace(t *testing.T) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/ns/pid", &st); err != nil {
		t.Fatal(err)
	}
	got, err := InInitialPIDNamespace("/proc")
	if err != nil {
		t.Fatal(err)
	}
	if want := st.Ino == ProcPIDInitIno; got != want {
		t.Errorf("InInitialPIDNamespace = %v, but /proc/self/ns/pid is inode %#x", got, st.Ino)
	}
	if st.Ino != ProcPIDInitIno && st.Ino < 0xF0000000 {
		t.Errorf("/proc/self/ns/pid is inode %#x: neither PROC_PID_INIT_INO nor a dynamic inode (>= PROC_DYNAMIC_FIRST)", st.Ino)
	}
	if _, err := InInitialPIDNamespace(t.TempDir()); !errors.Is(err, unix.ENOENT) {
		t.Errorf("a proc root without self/ns/pid: err = %v, want one that is ENOENT", err)
	}
}
