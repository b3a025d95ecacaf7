//go:build !cgo

package clone

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/clone/flags"
)

// The tests that run experiments need the C child and are built with cgo
// only; this one is their counterpart in a build without it (run it with
// CGO_ENABLED=0 go test ./clone/): every entry point says ErrNoCgo, before
// it makes a lab or touches the host, and needs no privilege to say it.
func TestNoCgo(t *testing.T) {
	fs := flags.Set(unix.CLONE_NEWNET | unix.CLONE_FILES)
	for _, host := range []bool{false, true} {
		if _, err := Run(Request{Flags: fs, Probes: true, Host: host}); !errors.Is(err, ErrNoCgo) {
			t.Errorf("Run (host %v): %v, want ErrNoCgo", host, err)
		}
		if _, err := RunUnshare(Request{Flags: flags.Set(unix.CLONE_NEWUTS), Host: host}); !errors.Is(err, ErrNoCgo) {
			t.Errorf("RunUnshare (host %v): %v, want ErrNoCgo", host, err)
		}
		if _, err := RunMatrix(Request{Host: host}, flags.DefaultMatrix()); !errors.Is(err, ErrNoCgo) {
			t.Errorf("RunMatrix (host %v): %v, want ErrNoCgo", host, err)
		}
	}
}
