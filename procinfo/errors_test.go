package procinfo

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestIsDenied(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{unix.EACCES, true},
		{unix.EPERM, true},
		{&Error{PID: 1, Op: "readlink", Path: "ns/net", Err: unix.EACCES}, true},
		{&os.PathError{Op: "open", Path: "/proc/1/fd", Err: unix.EPERM}, true},
		{fmt.Errorf("kcmp: %w", os.NewSyscallError("kcmp", unix.EPERM)), true},
		{errors.Join(unix.ENOENT, unix.EACCES), true},
		{unix.ENOENT, false},
		{unix.ESRCH, false},
		{errors.New("permission denied"), false}, // the text is not the errno
		{nil, false},
	} {
		if got := IsDenied(tt.err); got != tt.want {
			t.Errorf("IsDenied(%v) = %t, want %t", tt.err, got, tt.want)
		}
	}
}

// The hint names the operation and the privilege, and tells a user who is
// not root to become root, and one who is what else refuses.
func TestDeniedHint(t *testing.T) {
	for root, want := range map[bool]string{false: "run as root", true: "LSM"} {
		h := deniedHint("reading the fd table of process 42", root)
		for _, w := range []string{"reading the fd table of process 42", "CAP_SYS_PTRACE", want} {
			if !strings.Contains(h, w) {
				t.Errorf("root %t: %q lacks %q", root, h, w)
			}
		}
		if strings.Contains(h, "\n") {
			t.Errorf("root %t: %q is more than one line", root, h)
		}
	}
	if got, want := DeniedHint("kcmp"), deniedHint("kcmp", os.Geteuid() == 0); got != want {
		t.Errorf("DeniedHint as uid %d: %q, want %q", os.Geteuid(), got, want)
	}
}
