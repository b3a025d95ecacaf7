package testutil

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// How long a command a test runs may take (Command's timeout). They bound
// a hang, not a speed: they are far above what the commands take, also
// under QEMU's TCG and on a machine other jobs load.
const (
	// Quick is for a command that does one thing and exits: a tool
	// asked one question (ip, lsns, cp, runc spec), one run of
	// nsinspect, one podman or docker command.
	Quick = 2 * time.Minute
	// Slow is for a build or an image transfer: go build, make, podman
	// build, podman save | podman load.
	Slow = 10 * time.Minute
	// Held is for a child a test starts, uses and kills at its cleanup
	// (a sleeper, a server, a container's hold): the longest a test may
	// keep it, its full size included.
	Held = 30 * time.Minute
)

// waitDelay is how long Wait waits for a command's output pipes to close
// after the command exited or was killed: a process it left behind (a
// forked child, a daemonised shim) may hold them open for ever.
const waitDelay = 2 * time.Second

// Command is exec.Command(name, arg...) bounded by timeout: the process is
// killed (SIGKILL) when timeout has passed since Command was called, or at
// the latest at the test's cleanup, and Wait returns at most
// waitDelay after the process has exited even if a process it started
// still holds its stdout or stderr. Run it with Output or MustRun for an
// error that carries its stderr.
func Command(t testing.TB, timeout time.Duration, name string, arg ...string) *exec.Cmd {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, name, arg...)
	cmd.WaitDelay = waitDelay
	return cmd
}

// Output runs cmd (made by Command, so that it cannot hang) and returns its
// stdout. The error says which command failed, how it ended (an exit
// status, a signal: SIGKILL after the timeout) and after how long, and
// carries the command's stderr. Where cmd already has a Stdout or Stderr,
// what the command writes goes there too.
func Output(cmd *exec.Cmd) (string, error) {
	var out, errb bytes.Buffer
	cmd.Stdout = tee(&out, cmd.Stdout)
	cmd.Stderr = tee(&errb, cmd.Stderr)
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return out.String(), CommandError(cmd, err, time.Since(start), errb.String())
	}
	return out.String(), nil
}

// Run is Output of exec.Command(name, arg...) bounded by timeout, for a
// caller with no test at hand or one that runs commands in a loop (a
// churn), which Command would give a cleanup each.
func Run(timeout time.Duration, name string, arg ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, arg...)
	cmd.WaitDelay = waitDelay
	return Output(cmd)
}

// MustRun is Output that fails the test when the command fails.
func MustRun(t testing.TB, cmd *exec.Cmd) string {
	t.Helper()
	out, err := Output(cmd)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// CommandError is the error of a command that ran for took and failed with
// err: its command line, how it ended, and its stderr.
func CommandError(cmd *exec.Cmd, err error, took time.Duration, stderr string) error {
	msg := strings.TrimSpace(stderr)
	if msg == "" {
		msg = "(no stderr)"
	}
	return fmt.Errorf("%s: %w after %v; stderr: %s", strings.Join(cmd.Args, " "), err, took.Round(time.Millisecond), msg)
}

// Pipe runs src | dst (both made by Command) and waits for both. The
// pipe's ends are closed in this process as soon as both commands have
// started, so that when dst exits early, src's next write fails (EPIPE)
// instead of blocking for ever on a pipe this process still holds open.
// The error names each command that failed, with its stderr: dst first,
// since a src that failed after dst did most likely met the closed pipe.
func Pipe(src, dst *exec.Cmd) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	var srcErr, dstErr bytes.Buffer
	src.Stdout, dst.Stdin = w, r
	src.Stderr, dst.Stderr = tee(&srcErr, src.Stderr), tee(&dstErr, dst.Stderr)
	start := time.Now()
	err = src.Start()
	if err == nil {
		if err = dst.Start(); err != nil {
			src.Process.Kill()
			src.Wait()
		}
	}
	r.Close()
	w.Close()
	if err != nil {
		return err
	}
	derr := dst.Wait()
	serr := src.Wait()
	took := time.Since(start)
	var errs []error
	if derr != nil {
		errs = append(errs, CommandError(dst, derr, took, dstErr.String()))
	}
	if serr != nil {
		errs = append(errs, CommandError(src, serr, took, srcErr.String()))
	}
	return errors.Join(errs...)
}

// tee is a writer to buf and, if it is not nil, to w.
func tee(buf *bytes.Buffer, w io.Writer) io.Writer {
	if w == nil {
		return buf
	}
	return io.MultiWriter(buf, w)
}
