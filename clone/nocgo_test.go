//go:build !cgo

package clone

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// The tests that run experiments need the C child and are built with cgo
// only; this one is their counterpart in a build without it (run it with
// CGO_ENABLED=0 go test ./clone/): every entry point says ErrNoCgo, before
// it makes a lab or touches the host, and needs no privilege to say it.
func TestNoCgo(t *testing.T) {
	flags := FlagSet(unix.CLONE_NEWNET | unix.CLONE_FILES)
	for _, host := range []bool{false, true} {
		if _, err := Run(Request{Flags: flags, Probes: true, Host: host}); !errors.Is(err, ErrNoCgo) {
			t.Errorf("Run (host %v): %v, want ErrNoCgo", host, err)
		}
		if _, err := RunUnshare(Request{Flags: FlagSet(unix.CLONE_NEWUTS), Host: host}); !errors.Is(err, ErrNoCgo) {
			t.Errorf("RunUnshare (host %v): %v, want ErrNoCgo", host, err)
		}
		if _, err := RunMatrix(Request{Matrix: DefaultMatrix(), Host: host}); !errors.Is(err, ErrNoCgo) {
			t.Errorf("RunMatrix (host %v): %v, want ErrNoCgo", host, err)
		}
	}
}
