package integration

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// badCase is one command line and what nsinspect must answer: the exit
// code, a text the single stderr line must contain (errors) or, for exit 0,
// output on stdout.
type badCase struct {
	args []string
	code int
	has  string
	as   *syscall.SysProcAttr
}

// TestBadInput runs every kind of bad input the README's exit-code table
// promises an answer for, across all commands, through the built binary:
// each error is exactly one line "nsinspect: ..." on stderr, with the
// documented exit code, nothing on stdout and never a Go crash. Kernel
// threads and zombies are not bad input: they are inspected (exit 0) with
// what /proc still gives.
func TestBadInput(t *testing.T) {
	testutil.RequireRoot(t)
	me := strconv.Itoa(os.Getpid())
	b, err := os.ReadFile("/proc/sys/kernel/pid_max")
	if err != nil {
		t.Fatal(err)
	}
	// PIDs are below pid_max, so pid_max itself never names a process.
	never := strings.TrimSpace(string(b))
	other := testutil.Command(t, testutil.Held, "sleep", "1000")
	startChild(t, other)
	foreign := me + ":" + strconv.Itoa(other.Process.Pid)
	zombie := strconv.Itoa(startZombie(t))

	cases := []badCase{
		// Clone flag strings (clone and unshare share the parser).
		{args: []string{"clone", "CLONE_NEWFOO"}, code: 2, has: `unknown clone flag "CLONE_NEWFOO"`},
		{args: []string{"clone", "0xZZ"}, code: 2, has: `bad clone flag number "0xZZ"`},
		{args: []string{"clone", ""}, code: 2, has: "no clone flags"},
		{args: []string{"clone", "|||"}, code: 2, has: "no clone flags"},
		{args: []string{"clone", "CLONE_NEWNET|"}, code: 2, has: "dangling operator"},
		{args: []string{"clone", "net||files"}, code: 2, has: "dangling operator"},
		{args: []string{"clone", "0x1"}, code: 2, has: "SIGCHLD"}, // the exit-signal byte, SIGHUP
		{args: []string{"clone", "CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID"},
			code: 2, has: "Drop them and run the rest: 'CLONE_FILES|CLONE_FS|CLONE_VM|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM'"},
		{args: []string{"clone", "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD"}, code: 2, has: "CLONE_CHILD_SETTID: "},
		{args: []string{"clone", "net|SIGUSR1"}, code: 2, has: "every nsinspect experiment passes SIGCHLD"},
		{args: []string{"unshare", "net|SIGCHLD"}, code: 2, has: "exit signal SIGCHLD"},
		{args: []string{"clone"}, code: 2},
		{args: []string{"clone", "net", "files"}, code: 2},
		{args: []string{"clone", "net", "--bogus"}, code: 2, has: "--bogus"},
		{args: []string{"unshare", "CLONE_NEWFOO"}, code: 2, has: "CLONE_NEWFOO"},
		{args: []string{"unshare", "0xZZ"}, code: 2, has: "0xZZ"},
		{args: []string{"unshare", "|||"}, code: 2, has: "no clone flags"},
		{args: []string{"unshare", "vfork"}, code: 2},
		{args: []string{"matrix", "extra"}, code: 2},
		// Combinations the kernel refuses: exit 3, the errno and the rule.
		{args: []string{"clone", "sighand"}, code: 3, has: "EINVAL: CLONE_SIGHAND requires CLONE_VM"},
		{args: []string{"clone", "newipc,sysvsem", "--json"}, code: 3, has: "EINVAL"},
		{args: []string{"clone", "thread"}, code: 3, has: "EINVAL"},
		{args: []string{"clone", "newuser,fs"}, code: 3, has: "EINVAL"},
		{args: []string{"unshare", "newuser", "--thread"}, code: 3, has: "EINVAL"},
		// Conflicting options.
		{args: []string{"ls", "--json", "--tree"}, code: 2, has: "cannot be combined"},
		{args: []string{"clone", "net", "--host", "--userns"}, code: 2, has: "conflict"},
		{args: []string{"clone", "net", "--json", "--dot"}, code: 2, has: "cannot be combined"},
		{args: []string{"clone", "net", "--dot", "--svg"}, code: 2, has: "cannot be combined"},
		// PIDs: nonexistent, zero, negative, huge, not numbers.
		{args: []string{"compare", me, never}, code: 2, has: "no process with PID " + never},
		{args: []string{"compare", never, me}, code: 2, has: "no process with PID " + never},
		{args: []string{"compare", "0", me}, code: 2, has: `bad PID "0": must be greater than 0`},
		{args: []string{"compare", me, "-5"}, code: 2, has: `bad PID "-5": must be greater than 0`},
		{args: []string{"compare", "--", "-5", me}, code: 2, has: `bad PID "-5": must be greater than 0`},
		{args: []string{"compare", "abc", me}, code: 2, has: `bad PID "abc": not a number`},
		{args: []string{"compare", me, "99999999999"}, code: 2, has: "out of range"},
		{args: []string{"compare", me}, code: 2, has: "accepts 2 arg(s), received 1"},
		{args: []string{"compare", me, me, me}, code: 2, has: "accepts 2 arg(s), received 3"},
		{args: []string{"compare", me, me, "--jsn"}, code: 2, has: "unknown flag: --jsn"},
		{args: []string{"fds", "0"}, code: 2, has: "must be greater than 0"},
		{args: []string{"fds", "-1"}, code: 2},
		{args: []string{"fds", "abc"}, code: 2, has: "not a number"},
		{args: []string{"fds", "99999999"}, code: 2, has: "no process with PID 99999999"},
		{args: []string{"fds", never}, code: 2, has: "no process"},
		{args: []string{"fds", ""}, code: 2, has: `bad PID ""`},
		{args: []string{"show", "0"}, code: 2},
		{args: []string{"show", "-1"}, code: 2},
		{args: []string{"show", "abc"}, code: 2},
		{args: []string{"show", " 1"}, code: 2, has: "not a number"},
		{args: []string{"show", never}, code: 2, has: "no process"},
		{args: []string{"show"}, code: 2},
		{args: []string{"show", "1", "2"}, code: 2},
		{args: []string{"ls", "-p", "0"}, code: 2},
		{args: []string{"ls", "-p", "-1"}, code: 2},
		{args: []string{"ls", "-p", "abc"}, code: 2},
		{args: []string{"ls", "-p", "999999999"}, code: 2},
		{args: []string{"ls", "extra"}, code: 2},
		{args: []string{"graph", "-p", "0"}, code: 2, has: "must be greater than 0"},
		{args: []string{"graph", "-p", "-1"}, code: 2},
		{args: []string{"graph", "-p", "abc"}, code: 2, has: "not a number"},
		{args: []string{"graph", "-p", never}, code: 2, has: "no process"},
		{args: []string{"kthreads", "extra"}, code: 2},
		{args: []string{"nsproxy", "extra"}, code: 2},
		{args: []string{"hold", "extra"}, code: 2},
		{args: []string{"completion", "tcsh"}, code: 2},
		{args: []string{"nosuchcommand"}, code: 2, has: "unknown command"},
		// PID:TID where TID is not a thread of PID, or not a number.
		{args: []string{"show", foreign}, code: 2, has: "no thread " + strconv.Itoa(other.Process.Pid) + " in process " + me},
		{args: []string{"compare", me, foreign}, code: 2, has: "no thread"},
		{args: []string{"fds", foreign}, code: 2, has: "no thread"},
		{args: []string{"ls", "-p", foreign}, code: 2, has: "no thread"},
		{args: []string{"compare", me, me + ":1"}, code: 2, has: "no thread 1 in process " + me},
		{args: []string{"compare", me, me + ":x"}, code: 2, has: "bad thread id"},
		{args: []string{"show", "1:x"}, code: 2, has: "bad thread id"},
		{args: []string{"show", "1:0"}, code: 2, has: "must be greater than 0"},
		{args: []string{"show", "1:"}, code: 2, has: "bad thread id"},
		// Namespace types and explain names.
		{args: []string{"ls", "-t", "bogus"}, code: 2, has: `unknown namespace type: "bogus"`},
		{args: []string{"ls", "-t", "net,bogus"}, code: 2, has: "bogus"},
		{args: []string{"ls", "-t", ""}, code: 2, has: "unknown namespace type"},
		{args: []string{"explain", "bogus"}, code: 2, has: `nothing to explain for "bogus"`},
		{args: []string{"explain", "pid_for_children"}, has: "next children"},
		{args: []string{"explain", "CLONE_SETTLS"}, has: "left out"},
		{args: []string{"explain", "SIGCHLD"}, has: "exit signal"},
		// Malformed --expect.
		{args: []string{"compare", me, me, "--expect", "net"}, code: 2, has: "is not NAME=shared or NAME=separate"},
		{args: []string{"compare", me, me, "--expect", "net=maybe"}, code: 2, has: "neither shared nor separate"},
		{args: []string{"compare", me, me, "--expect", "bogus=shared"}, code: 2, has: "cgroup, ipc, mnt, net, pid, pid_for_children, time, time_for_children, user, uts, files, fs, vm, sighand, io, sysvsem"},
		{args: []string{"compare", me, me, "--expect", "network=separate"}, code: 2, has: `unknown resource "network"`},
		{args: []string{"compare", me, me, "--expect", "net=same"}, code: 2, has: `write "shared"`},
		{args: []string{"compare", me, me, "--expect", "net=separate,"}, code: 2, has: "item 2 is empty"},
		{args: []string{"compare", me, me, "--expect", "net=separate,net=shared"}, code: 2, has: "net is given twice"},
		{args: []string{"compare", me, me, "--expect", "="}, code: 2},
		{args: []string{"compare", me, me, "--expect", ""}, code: 2, has: "empty"},
		{args: []string{"compare", me, me, "--expect", ",,"}, code: 2, has: "stray comma"},
		// Struct names and BTF files.
		{args: []string{"struct", "nosuchstruct"}, code: 2, has: `no struct or union "nosuchstruct"`},
		{args: []string{"struct", ""}, code: 2, has: "no struct or union"},
		{args: []string{"struct", "nsproxy", "--depth", "-5"}, code: 2, has: "--depth"},
		{args: []string{"struct", "nsproxy", "--btf", "/etc/passwd"}, code: 2, has: "holds no BTF"},
		{args: []string{"struct", "nsproxy", "--btf", "/nonexistent"}, code: 2, has: "cannot read --btf /nonexistent"},
		{args: []string{"struct", "nsproxy", "--btf", "/"}, code: 2, has: "holds no BTF"},
		{args: []string{"struct", "nsproxy", "--btf", "/etc/shadow"}, code: 4, has: "/etc/shadow", as: nobody()},
		{args: []string{"hold", "--ready-file", "/nonexistent/x"}, code: 2, has: "--ready-file"},
		// A kernel thread: no user memory, no fds, but namespaces (init's).
		{args: []string{"compare", "2", me}},
		{args: []string{"fds", "2"}},
		{args: []string{"show", "2"}},
		{args: []string{"ls", "-p", "2"}},
		{args: []string{"graph", "-p", "2"}},
		// A zombie: its nsproxy and fd table were released at exit.
		{args: []string{"show", zombie}, has: "zombie: namespaces released"},
		{args: []string{"compare", zombie, me}},
		{args: []string{"fds", zombie}},
		{args: []string{"ls", "-p", zombie}},
	}
	for _, c := range cases {
		what := strings.Join(c.args, " ")
		r := runAs(t, c.as, c.args...)
		if c.code == 0 {
			if r.code != 0 || r.stdout == "" || !strings.Contains(r.stdout, c.has) {
				t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 0 and a report", what, r.code, r.stdout, r.stderr)
			}
			noCrash(t, what, r)
			continue
		}
		checkOneLineError(t, r, c.code, what)
		if !strings.HasPrefix(r.stderr, "nsinspect: ") || !strings.Contains(r.stderr, c.has) {
			t.Errorf("%s: stderr %q; want one line \"nsinspect: ...\" containing %q", what, r.stderr, c.has)
		}
		// A kernel refusal prints its report on stdout; errors print none.
		if c.code != 3 && r.stdout != "" {
			t.Errorf("%s: error printed on stdout too: %q", what, r.stdout)
		}
	}
}

func noCrash(t *testing.T, what string, r result) {
	t.Helper()
	if strings.Contains(r.stderr, "goroutine") || strings.Contains(r.stderr, "panic") {
		t.Errorf("%s: crash output: %q", what, r.stderr)
	}
}

// startZombie starts a child that exits at once and waits for the exit
// without reaping it (WNOWAIT): the pid stays a zombie until t.Cleanup
// reaps it.
func startZombie(t *testing.T) int {
	t.Helper()
	cmd := testutil.Command(t, testutil.Held, "sh", "-c", "exit 0")
	startChild(t, cmd)
	var info unix.Siginfo
	if err := unix.Waitid(unix.P_PID, cmd.Process.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}
