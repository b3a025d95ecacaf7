package testutil

import (
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A command that outlives its timeout is killed, and the error says how it
// ended and carries what it wrote on stderr.
func TestCommandTimeout(t *testing.T) {
	cmd := Command(t, 200*time.Millisecond, "sh", "-c", "echo starting >&2; exec sleep 100")
	_, err := Output(cmd)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("error %v, want the command killed", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "sh -c echo starting") || !strings.Contains(msg, "signal: killed") || !strings.Contains(msg, "stderr: starting") {
		t.Errorf("error %q: want the command line, how it ended and its stderr", msg)
	}
}

// A failure carries stderr; a success returns stdout.
func TestOutput(t *testing.T) {
	out, err := Output(Command(t, Quick, "sh", "-c", "echo out; echo oops >&2; exit 3"))
	if out != "out\n" || err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "stderr: oops") {
		t.Errorf("got %q, %v; want out and an error with exit status 3 and stderr oops", out, err)
	}
	if out, err := Output(Command(t, Quick, "echo", "hello")); out != "hello\n" || err != nil {
		t.Errorf("echo hello: %q, %v", out, err)
	}
	if _, err := Run(200*time.Millisecond, "sleep", "100"); err == nil || !strings.Contains(err.Error(), "sleep 100: signal: killed") {
		t.Errorf("Run of sleep 100 with a 200 ms timeout: %v, want it killed", err)
	}
}

// A process left behind holding the command's stderr does not keep Wait
// waiting for it: the pipe is closed waitDelay after the command exited,
// and the error says so.
func TestCommandOrphanHoldsPipe(t *testing.T) {
	cmd := Command(t, Quick, "sh", "-c", "sleep 100 & echo $! >&2")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	_, err := Output(cmd)
	orphan, _ := strconv.Atoi(strings.TrimSpace(stderr.String()))
	if orphan <= 0 {
		t.Fatalf("no orphan pid on stderr: %q", stderr.String())
	}
	defer syscall.Kill(orphan, syscall.SIGKILL)
	if !errors.Is(err, exec.ErrWaitDelay) {
		t.Errorf("error %v, want exec.ErrWaitDelay", err)
	}
	if syscall.Kill(orphan, 0) != nil {
		t.Errorf("the orphan %d is gone: Wait waited for it", orphan)
	}
}

// src | dst where dst exits without reading: src's next write fails and
// Pipe returns dst's error, instead of src blocking on a pipe this process
// still holds. (yes would otherwise run until its timeout kills it.)
func TestPipeReaderExitsEarly(t *testing.T) {
	src := Command(t, time.Minute, "yes")
	dst := Command(t, Quick, "sh", "-c", "echo cannot load >&2; exit 125")
	err := Pipe(src, dst)
	if err == nil || !strings.Contains(err.Error(), "exit status 125") || !strings.Contains(err.Error(), "cannot load") {
		t.Fatalf("error %v, want dst's exit status 125 with its stderr", err)
	}
	if ws := src.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGPIPE {
		t.Errorf("yes ended with %v, want SIGPIPE (the pipe's reading end closed everywhere)", src.ProcessState)
	}
}

func TestPipe(t *testing.T) {
	dst := Command(t, Quick, "wc", "-l")
	var out strings.Builder
	dst.Stdout = &out
	if err := Pipe(Command(t, Quick, "seq", "1000"), dst); err != nil || strings.TrimSpace(out.String()) != "1000" {
		t.Errorf("seq 1000 | wc -l: %q, %v", out.String(), err)
	}
}
