package inspect

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/bpfiter"
	"github.com/nsinspect/nsinspect/engine"
	"github.com/nsinspect/nsinspect/features"
	"github.com/nsinspect/nsinspect/procinfo"
)

// TestClassOf pins the one classification every exit code and HTTP
// status comes from, for the core's own errors and the lower layers'.
func TestClassOf(t *testing.T) {
	pathErr := func(errno syscall.Errno) error {
		return &os.PathError{Op: "open", Path: "/proc/1/ns/net", Err: errno}
	}
	gone := &procinfo.Error{PID: 7, Op: "read", Path: "status", Err: unix.ESRCH}
	cases := []struct {
		name string
		err  error
		want Class
	}{
		{"nil", nil, OK},
		{"assertion", Assertionf(""), Assertion},
		{"bad input", BadInputf("bad PID %q", "x"), BadInput},
		{"no such task is bad input", Wrap(ErrNoSuchTask, nil, "no process with PID 9"), BadInput},
		{"no such container is bad input", Wrap(ErrNoSuchContainer, nil, "no docker container"), BadInput},
		{"kernel refused", Wrap(ErrKernelRefused, nil, "EINVAL"), KernelRefused},
		{"privilege", Privilegef("needs CAP_SYS_PTRACE"), Privilege},
		{"unsupported", Wrap(ErrUnsupported, nil, "no dot"), Privilege},
		{"undecided", Undecidedf(nil, "engine slow"), Undecided},
		{"EACCES from a read", fmt.Errorf("reading: %w", pathErr(unix.EACCES)), Privilege},
		{"EPERM from a call", pathErr(unix.EPERM), Privilege},
		{"EIO is undecided", pathErr(unix.EIO), Undecided},
		{"a task gone mid-read", fmt.Errorf("x: %w", gone), Undecided},
		{"a missing kernel feature", &features.MissingError{For: "pinning"}, Privilege},
		{"BPF unavailable", fmt.Errorf("%w: no BTF", bpfiter.ErrUnavailable), Privilege},
		{"engine: no such container", &engine.Error{Engine: "docker", Name: "x", Err: engine.ErrNotFound}, BadInput},
		{"engine: absent", &engine.Error{Engine: "docker", Name: "x", Err: engine.ErrNoEngine}, Undecided},
		{"engine: too slow", &engine.Error{Engine: "docker", Name: "x", Err: context.DeadlineExceeded}, Undecided},
		{"engine: socket refused", &engine.Error{Engine: "docker", Name: "x", Err: &os.SyscallError{Syscall: "connect", Err: unix.EACCES}}, Privilege},
		{"an unknown error", errors.New("surprise"), Undecided},
		// A run with several outcomes takes the gravest.
		{"violation and undecided", errors.Join(Assertionf(""), Undecidedf(nil, "slow")), Undecided},
		{"violation and refused", errors.Join(Assertionf(""), Privilegef("refused")), Privilege},
		{"violation and nothing", errors.Join(nil, Assertionf("")), Assertion},
		{"a wrapped kind keeps it", fmt.Errorf("audit: %w", Wrap(ErrNoSuchTask, nil, "no process")), BadInput},
	}
	for _, c := range cases {
		if got := ClassOf(c.err); got != c.want {
			t.Errorf("%s: ClassOf(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}

// TestErrorKeepsKindAndCause: errors.Is sees both the kind and the cause,
// errors.As the cause's type.
func TestErrorKeepsKindAndCause(t *testing.T) {
	cause := &procinfo.Error{PID: 7, Op: "open", Err: unix.ESRCH}
	err := Wrap(ErrNoSuchTask, cause, "no process with PID 7")
	if !errors.Is(err, ErrNoSuchTask) || !errors.Is(err, ErrBadInput) || !errors.Is(err, procinfo.ErrProcessGone) {
		t.Errorf("%v: errors.Is lost the kind or the cause", err)
	}
	var pe *procinfo.Error
	if !errors.As(err, &pe) || pe.PID != 7 {
		t.Errorf("%v: errors.As lost the cause's type", err)
	}
	if err.Error() != "no process with PID 7" {
		t.Errorf("message %q: want the line given, not the cause's", err.Error())
	}
}

// TestEngineErrorTimeout: a lookup that ran out of time is undecided
// and says how long it waited, naming no flag (show and compare have no
// --engine-timeout).
func TestEngineErrorTimeout(t *testing.T) {
	lookup := &engine.Error{Engine: "containerd", Name: "k8s.io/x", Asked: "containerd at /run/c.sock",
		Err: fmt.Errorf("Post %q: %w", "http://containerd/x", context.DeadlineExceeded)}
	err := engineError("containerd:k8s.io/x", lookup, 1500*time.Millisecond)
	if c := ClassOf(err); c != Undecided {
		t.Errorf("class %v, want Undecided", c)
	}
	msg := err.Error()
	for _, want := range []string{"containerd:k8s.io/x", "containerd at /run/c.sock", "did not answer in time, within 1.5s"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "--") || strings.Contains(msg, "\n") {
		t.Errorf("%q names a flag or is not one line", msg)
	}
}
