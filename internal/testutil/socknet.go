package testutil

import (
	"testing"

	"golang.org/x/sys/unix"
)

// SocketInNewNetns makes a UDP socket in a new network namespace, on a
// thread that unshared CLONE_NEWNET and went back (OnThread), and returns
// its fd, owned by the caller. The socket is then the namespace's only
// reference: a namespace that no task is in and no fd or mount names.
func SocketInNewNetns(t testing.TB) int {
	t.Helper()
	sock := -1
	_, err := OnThread(t, func() error {
		back, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(back)
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return err
		}
		sock, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if serr := unix.Setns(back, unix.CLONE_NEWNET); serr != nil {
			return serr // the thread stays parked until the test ends
		}
		return err
	})
	if err != nil {
		t.Fatalf("a socket in a new network namespace: %v", err)
	}
	return sock
}
