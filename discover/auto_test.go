package discover

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/namespaces"
)

func TestParseLoadavgThreads(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int // 0: an error
	}{
		{"0.00 0.01 0.05 1/215 4242\n", 215},
		{"3.63 5.10 5.09 3/6412 29155\n", 6412},
		{"12.01 11.50 9.00 17/100000 999999", 100000},
		{"", 0},
		{"0.00 0.01 0.05\n", 0},
		{"0.00 0.01 0.05 215 4242\n", 0},    // no slash
		{"0.00 0.01 0.05 1/x 4242\n", 0},    // not a number
		{"0.00 0.01 0.05 1/0 4242\n", 0},    // no tasks at all
		{"0.00 0.01 0.05 1/-3 4242\n", 0},   // negative
		{"0.00 0.01 0.05 1/ 4242\n", 0},     // empty
		{"0.00 0.01 0.05 /215 4242\n", 215}, // the runnable count is not needed
	} {
		got, err := parseLoadavgThreads(c.in)
		if c.want == 0 {
			if err == nil {
				t.Errorf("%q: %d, want an error", c.in, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: %d, %v; want %d", c.in, got, err, c.want)
		}
	}
}

// Auto's choice from what it knows before running anything: /proc below
// AutoThreads threads, BPF from there on, where the size is unknown,
// where the view needs kernel objects, where PID 1 refuses us and where
// we run in a pid namespace of our own.
func TestAutoPrefersBPF(t *testing.T) {
	unknown := errors.New("no /proc/loadavg")
	for _, c := range []struct {
		f    autoFacts
		opt  Options
		want bool
	}{
		{autoFacts{threads: 73}, Options{}, false},
		{autoFacts{threads: 73}, Options{Tasks: true}, false},
		{autoFacts{threads: AutoThreads - 1}, Options{}, false},
		{autoFacts{threads: AutoThreads}, Options{}, true},
		{autoFacts{threads: 6412}, Options{Tasks: true}, true},
		{autoFacts{threadsErr: unknown}, Options{}, true},
		{autoFacts{threads: 73}, Options{Tasks: true, Objects: true}, true},
		{autoFacts{threads: 73, initRefused: true}, Options{}, true},
		{autoFacts{threads: 73, childPidNS: true}, Options{}, true},
	} {
		if got := c.f.preferBPF(c.opt); got != c.want {
			t.Errorf("%+v, %+v: preferBPF %v, want %v", c.f, c.opt, got, c.want)
		}
	}
}

// loadavgOf is a /proc/loadavg reader for a host of n threads.
func loadavgOf(n int) func() ([]byte, error) {
	return func() ([]byte, error) { return fmt.Appendf(nil, "0.10 0.20 0.30 1/%d 4242\n", n), nil }
}

// childProc starts a shell as PID 1 of a new pid namespace, in a mount
// namespace of its own (private, so nothing reaches ours) where it mounts
// that pid namespace's procfs on /proc, and returns the path through
// which we see that procfs: a /proc of one readable process (the shell,
// then sleep), whatever this host's PID 1 refuses.
func childProc(t *testing.T) string {
	t.Helper()
	cmd := testutil.Command(t, testutil.Held, "sh", "-c", "mount -t proc proc /proc || exit 1; echo ready; exec sleep 600")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:   unix.CLONE_NEWPID,
		Unshareflags: unix.CLONE_NEWNS,
		Pdeathsig:    syscall.SIGKILL,
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("pid namespace's shell: %q, %v; stderr %q", line, err, stderr.String())
	}
	return fmt.Sprintf("/proc/%d/root/proc", cmd.Process.Pid)
}

// Auto, given a fake /proc/loadavg, runs /proc on a small host and BPF on
// a large one, on one whose size it cannot read and for a view that
// needs kernel objects; on a small host whose /proc refuses a read it
// runs BPF too, and says nothing on a choice it made.
func TestAutoChoosesBySize(t *testing.T) {
	requireBPF(t)
	run := func(opt Options, s Source) *model.Model {
		t.Helper()
		m, err := Run(opt, s)
		if err != nil {
			t.Fatal(err)
		}
		if m.Note != "" {
			t.Errorf("note %q; want none where BPF runs", m.Note)
		}
		return m
	}
	// From a pid namespace of our own every choice is BPF.
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/ns/pid", &st); err != nil {
		t.Fatal(err)
	}
	small := map[bool]string{false: "proc", true: "bpf"}[st.Ino != namespaces.ProcPIDInitIno]

	// A /proc whose PID 1 we may read, of a host of one process, as
	// large, small and of unknown size: on the project's VM the host's
	// own PID 1 refuses even root, which would make every choice BPF.
	proc := childProc(t)
	broken := func() ([]byte, error) { return nil, os.ErrPermission }
	for _, c := range []struct {
		what string
		opt  Options
		a    Auto
	}{
		{"large host", Options{Proc: proc}, Auto{loadavg: loadavgOf(AutoThreads)}},
		{"large host, tasks", Options{Proc: proc, Tasks: true}, Auto{loadavg: loadavgOf(AutoThreads * 4)}},
		{"unknown size", Options{Proc: proc}, Auto{loadavg: broken}},
		{"kernel objects", Options{Proc: proc, Tasks: true, Objects: true}, Auto{loadavg: loadavgOf(73)}},
	} {
		if m := run(c.opt, c.a); m.Source != "bpf" {
			t.Errorf("%s: source %q, want bpf", c.what, m.Source)
		}
	}
	m := run(Options{Proc: proc, Tasks: true}, Auto{loadavg: loadavgOf(AutoThreads - 1)})
	if m.Source != small || m.Denied.Any() {
		t.Errorf("small host, %s: source %q, denied %+v; want %s, nothing denied", proc, m.Source, m.Denied, small)
	}
	if small == "proc" && (len(m.Tasks) != 1 || m.Tasks[0].PID != 1 || !m.Tasks[0].Readable()) {
		for _, task := range m.Tasks {
			t.Logf("task %+v", *task)
		}
		t.Errorf("small host, %s: %d tasks; want its PID 1 alone, readable", proc, len(m.Tasks))
	}

	// This host's /proc, as small: /proc, unless /proc refuses a read
	// there (the project VM's PID 1 refuses even root), which BPF makes.
	m = run(Options{}, Auto{loadavg: loadavgOf(AutoThreads - 1)})
	mp := run(Options{}, Proc{})
	_, err := os.Readlink("/proc/1/ns/net")
	want := small
	if err != nil || mp.Denied.NSLinks+mp.Denied.Threads+mp.Denied.FDs > 0 {
		want = "bpf"
	}
	if m.Source != want {
		t.Errorf("small host: source %q, want %s (PID 1's links: %v; /proc refused %+v)", m.Source, want, err, mp.Denied)
	}
}

// startOver is what Auto does when /proc refused a read: a /proc pass,
// dropped, then BPF into the same pass. (Auto itself cannot be made to
// meet a refusal here: root may read every task a test can start.)
type startOver struct{}

func (startOver) Name() string { return "proc, then bpf" }

func (startOver) Discover(p *Pass) error {
	if err := (Proc{}).Discover(p); err != nil {
		return err
	}
	p.reset()
	return bpfOrProc(p)
}

// A pass started over holds nothing of the first: the /proc walk's fds
// on every namespace are closed when it starts over, before the
// iterators read our fd table (they would be our fds holding
// namespaces), and the new registry's at the pass's end: no fd is left
// open.
func TestAutoStartOverDropsTheWalk(t *testing.T) {
	testutil.CheckLeaks(t)
	requireBPF(t)
	m, err := Run(Options{}, startOver{})
	if err != nil {
		t.Fatal(err)
	}
	self := os.Getpid()
	for _, n := range m.Namespaces {
		for _, fd := range n.FDs {
			if fd.PID == self {
				t.Errorf("%v held by our fd %d: the dropped walk's fds were seen by the iterators", n.NS, fd.FD)
			}
		}
	}
	if m.Source != "bpf" || m.Processes == 0 || len(m.Namespaces) == 0 {
		t.Errorf("source %q, %d processes, %d namespaces; want the BPF pass's", m.Source, m.Processes, len(m.Namespaces))
	}
}
