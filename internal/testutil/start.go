package testutil

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// Start runs argv as a child of the test (bounded by Held) and kills and
// reaps it at cleanup.
func Start(t testing.TB, argv ...string) *exec.Cmd {
	t.Helper()
	cmd := Command(t, Held, argv[0], argv[1:]...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %v: %v", argv, err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// StartReady is Start for a command that prints "ready" on a line of its
// own once it is set up (e.g. `sh -c 'echo ready; exec sleep 1000'` at the
// end of a chain of unshare(1)s); it returns once that line is read.
func StartReady(t testing.TB, argv ...string) *exec.Cmd {
	t.Helper()
	cmd := Command(t, Held, argv[0], argv[1:]...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %v: %v", argv, err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if line, err := readReady(cmd, out); err != nil || line != "ready\n" {
		t.Fatalf("%v did not start: %q, %v", argv, line, err)
	}
	return cmd
}

// readReady reads the first line of out, cmd's stdout; a cmd that prints
// none within Quick is killed, which ends the read.
func readReady(cmd *exec.Cmd, out io.Reader) (string, error) {
	kill := time.AfterFunc(Quick, func() { cmd.Process.Kill() })
	defer kill.Stop()
	return bufio.NewReader(out).ReadString('\n')
}

// EachStat calls fn with the pid and the /proc/PID/stat line of every
// process that is there while /proc is read; processes that exit
// meanwhile are left out.
func EachStat(t testing.TB, fn func(pid int, stat string)) {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if b, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil {
			fn(pid, string(b))
		}
	}
}

// FDs reads /proc/PID/fd without procinfo, as an independent view: fd
// number to link target. An fd closed while it is read fails the test.
func FDs(t testing.TB, pid int) map[int]string {
	t.Helper()
	dir := "/proc/" + strconv.Itoa(pid) + "/fd"
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[int]string{}
	for _, e := range ents {
		n, _ := strconv.Atoi(e.Name())
		if m[n], err = os.Readlink(dir + "/" + e.Name()); err != nil {
			t.Fatal(err)
		}
	}
	return m
}
