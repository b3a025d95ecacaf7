package flags

import (
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestExplainSetns(t *testing.T) {
	for _, tt := range []struct {
		nstype, fdType uint64
		pidfd          bool
		errno          syscall.Errno
		threads        int
		want           string // in one of the lines; "" for none
	}{
		{unix.CLONE_NEWNET, unix.CLONE_NEWUTS, false, unix.EINVAL, 1, "nstype must be 0 or the fd's own type"},
		{0, unix.CLONE_NEWUSER, false, unix.EINVAL, 2, "multi-threaded process cannot join a user namespace"},
		{0, unix.CLONE_NEWPID, false, unix.EINVAL, 1, "descendant"},
		{0, unix.CLONE_NEWNS, false, unix.EINVAL, 1, "shares its fs"},
		{unix.CLONE_FILES, 0, true, unix.EINVAL, 1, "one or more CLONE_NEW* flags"},
		{0, 0, false, unix.EINVAL, 1, "neither a namespace file nor a pidfd"},
		{unix.CLONE_NEWNET, 0, true, unix.ESRCH, 1, "has exited"},
		{0, unix.CLONE_NEWNET, false, unix.EPERM, 1, "CAP_SYS_ADMIN"},
		{0, 0, false, unix.EBADF, 1, "not an open file descriptor"},
		{0, unix.CLONE_NEWNET, false, unix.ENOMEM, 1, ""},
	} {
		got := ExplainSetns(tt.nstype, tt.fdType, tt.pidfd, tt.errno, tt.threads)
		if tt.want == "" {
			if len(got) != 0 {
				t.Errorf("%+v: %q, want nothing", tt, got)
			}
			continue
		}
		if !strings.Contains(strings.Join(got, "\n"), tt.want) {
			t.Errorf("%+v: %q lacks %q", tt, got, tt.want)
		}
	}
}
