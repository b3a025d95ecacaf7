package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/namespaces"
)

// The fds helper is this test binary re-executed with fdsHelperEnv set: it
// opens one fd of each kind the test checks, prints their numbers as JSON
// and blocks on stdin, so that its fd table stays still while it is read.
const fdsHelperEnv = "NSINSPECT_IT_FDS_HELPER"

func init() {
	if os.Getenv(fdsHelperEnv) == "1" {
		os.Exit(fdsHelper())
	}
}

// helperFDs are the fd numbers the helper opened.
type helperFDs struct {
	Regular, Deleted, PipeR, PipeW, SockA, SockB, TCP, Eventfd, Nsfs, Pidfd int
}

func fdsHelper() int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "fds helper:", err); return 1 }
	var h helperFDs
	var err error
	if h.Regular, err = unix.Open(os.Getenv("REGULAR"), unix.O_RDONLY, 0); err != nil {
		return fail(err)
	}
	if _, err := unix.Read(h.Regular, make([]byte, 3)); err != nil {
		return fail(err)
	}
	deleted := os.Getenv("DELETED")
	if h.Deleted, err = unix.Open(deleted, unix.O_RDWR|unix.O_APPEND, 0); err != nil {
		return fail(err)
	}
	if err := os.Remove(deleted); err != nil {
		return fail(err)
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK); err != nil {
		return fail(err)
	}
	h.PipeR, h.PipeW = p[0], p[1]
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fail(err)
	}
	h.SockA, h.SockB = sp[0], sp[1]
	if h.TCP, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0); err != nil {
		return fail(err)
	}
	if h.Eventfd, err = unix.Eventfd(7, unix.EFD_CLOEXEC); err != nil {
		return fail(err)
	}
	target, err := strconv.Atoi(os.Getenv("TARGET"))
	if err != nil {
		return fail(err)
	}
	if h.Nsfs, err = unix.Open(fmt.Sprintf("/proc/%d/ns/uts", target), unix.O_RDONLY, 0); err != nil {
		return fail(err)
	}
	if h.Pidfd, err = unix.PidfdOpen(target, 0); err != nil {
		return fail(err)
	}
	if err := json.NewEncoder(os.Stdout).Encode(h); err != nil {
		return fail(err)
	}
	os.Stdin.Read(make([]byte, 1)) // the test closes stdin or kills us
	return 0
}

// startChild starts cmd (made by testutil.Command) and registers
// kill+reap for cleanup.
func startChild(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %v: %v", cmd.Args, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
}

// startFdsHelper starts the helper and returns its pid and fd numbers.
func startFdsHelper(t *testing.T, target int) (int, helperFDs) {
	t.Helper()
	dir := t.TempDir()
	regular := filepath.Join(dir, "regular file")
	deleted := filepath.Join(dir, "deleted")
	for _, f := range []string{regular, deleted} {
		if err := os.WriteFile(f, []byte("hello\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := testutil.Command(t, testutil.Held, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fdsHelperEnv+"=1", "REGULAR="+regular, "DELETED="+deleted, "TARGET="+strconv.Itoa(target))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	startChild(t, cmd)
	t.Cleanup(func() { stdin.Close() })
	var h helperFDs
	if err := json.NewDecoder(stdout).Decode(&h); err != nil {
		t.Fatalf("reading the helper's fd numbers: %v", err)
	}
	return cmd.Process.Pid, h
}

// fdsOut mirrors `nsinspect fds --json`.
type fdsOut struct {
	PID int `json:"pid"`
	FDs []struct {
		FD         int    `json:"fd"`
		Kind       string `json:"kind"`
		AnonName   string `json:"anon_name"`
		Path       string `json:"path"`
		Pos        int64  `json:"pos"`
		Flags      string `json:"flags"`
		FlagsOctal string `json:"flags_octal"`
		MntID      int    `json:"mnt_id"`
		MountPoint string `json:"mount_point"`
		Inode      uint64 `json:"inode"`
		Pidfd      *struct {
			Pid   int   `json:"pid"`
			NSpid []int `json:"nspid"`
		} `json:"pidfd"`
		Namespace *struct {
			Type  string `json:"type"`
			Inode uint64 `json:"ns"`
			ID    uint64 `json:"id"`
			Error string `json:"error"`
		} `json:"namespace"`
	} `json:"fds"`
}

type lsfdRow struct {
	FD    *int   `json:"fd"`
	Type  string `json:"type"`
	Name  string `json:"name"`
	Inode uint64 `json:"inode"`
	MntID int    `json:"mntid"`
	Pos   int64  `json:"pos"`
	Flags string `json:"flags"`
}

// lsfdType maps our kinds to lsfd's TYPE column.
var lsfdType = map[string]string{
	"regular": "REG", "nsfs": "REG", "memfd": "REG", "dir": "DIR", "chr": "CHR",
	"blk": "BLK", "pipe": "FIFO", "fifo": "FIFO", "socket": "SOCK",
	"anon_inode": "UNKN", "pidfd": "UNKN",
}

// lsfdFlags turns "O_RDWR|O_NONBLOCK|O_CLOEXEC" into lsfd's
// "rdwr,nonblock,cloexec" as a sorted set; lsfd leaves out rdonly and
// largefile.
func lsfdFlags(ours string) string {
	var out []string
	for _, f := range strings.Split(ours, "|") {
		f = strings.ToLower(strings.TrimPrefix(f, "O_"))
		if f != "rdonly" && f != "largefile" {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func sortedCSV(s string) string {
	if s == "" {
		return ""
	}
	f := strings.Split(s, ",")
	sort.Strings(f)
	return strings.Join(f, ",")
}

// TestFdsAgreesWithLsfd compares, field by field, nsinspect's fd table of
// a helper that holds a regular file, a deleted file, a pipe, sockets, an
// eventfd, an nsfs fd and a pidfd with lsfd's view of the same process.
func TestFdsAgreesWithLsfd(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireCommand(t, "lsfd", "util-linux")
	target := unshareSleep(t, "--uts")
	pid, h := startFdsHelper(t, target)

	var got fdsOut
	if err := json.Unmarshal([]byte(mustRun(t, "fds", "--json", strconv.Itoa(pid))), &got); err != nil {
		t.Fatal(err)
	}
	out := testutil.MustRun(t, testutil.Command(t, testutil.Quick, "lsfd", "-J", "-p", strconv.Itoa(pid), "-o", "FD,TYPE,NAME,INODE,MNTID,POS,FLAGS"))
	var ls struct{ Lsfd []lsfdRow }
	if err := json.Unmarshal([]byte(out), &ls); err != nil {
		t.Fatal(err)
	}
	want := map[int]lsfdRow{}
	for _, r := range ls.Lsfd {
		if r.FD != nil {
			want[*r.FD] = r
		}
	}

	if got.PID != pid {
		t.Errorf("pid %d, want %d", got.PID, pid)
	}
	sockName := regexp.MustCompile(`^[A-Z0-9-]+:\[([0-9]+)\]$`)
	seen := map[int]bool{}
	for _, f := range got.FDs {
		seen[f.FD] = true
		l, ok := want[f.FD]
		if !ok {
			t.Errorf("fd %d (%s %s) is not in lsfd's output", f.FD, f.Kind, f.Path)
			continue
		}
		if lsfdType[f.Kind] != l.Type {
			t.Errorf("fd %d: kind %s, lsfd type %s", f.FD, f.Kind, l.Type)
		}
		if f.Kind == "socket" {
			// lsfd names a socket by protocol ("UNIX:[123]"), the kernel's
			// link says "socket:[123]": the inode must agree.
			m := sockName.FindStringSubmatch(l.Name)
			if m == nil || f.Path != "socket:["+m[1]+"]" {
				t.Errorf("fd %d: path %q, lsfd name %q", f.FD, f.Path, l.Name)
			}
		} else if f.Path != l.Name {
			t.Errorf("fd %d: path %q, lsfd name %q", f.FD, f.Path, l.Name)
		}
		if f.Inode != l.Inode || f.MntID != l.MntID || f.Pos != l.Pos {
			t.Errorf("fd %d: inode, mnt_id, pos = %d, %d, %d; lsfd %d, %d, %d", f.FD, f.Inode, f.MntID, f.Pos, l.Inode, l.MntID, l.Pos)
		}
		if lsfdFlags(f.Flags) != sortedCSV(l.Flags) {
			t.Errorf("fd %d: flags %s, lsfd %s", f.FD, f.Flags, l.Flags)
		}
	}
	for n := range want {
		if !seen[n] {
			t.Errorf("lsfd lists fd %d, nsinspect does not", n)
		}
	}

	// What lsfd does not show: each fd's kind as the helper opened it,
	// the pidfd's process and the nsfs fd's namespace id.
	uts, err := unix.Open(fmt.Sprintf("/proc/%d/ns/uts", target), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(uts)
	wantNS, err := namespaces.FromFD(uts)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[int]string{h.Regular: "regular", h.Deleted: "regular", h.PipeR: "pipe", h.PipeW: "pipe",
		h.SockA: "socket", h.SockB: "socket", h.TCP: "socket", h.Eventfd: "anon_inode", h.Nsfs: "nsfs", h.Pidfd: "pidfd"}
	for _, f := range got.FDs {
		if k, ok := kinds[f.FD]; ok && k != f.Kind {
			t.Errorf("fd %d: kind %s, the helper opened a %s", f.FD, f.Kind, k)
		}
		switch f.FD {
		case h.Regular:
			if f.Pos != 3 || !strings.HasSuffix(f.Path, "/regular file") || f.Flags != "O_RDONLY|O_LARGEFILE" {
				t.Errorf("regular fd: %+v", f)
			}
		case h.Deleted:
			if !strings.HasSuffix(f.Path, "/deleted (deleted)") || f.Flags != "O_RDWR|O_APPEND|O_LARGEFILE" {
				t.Errorf("deleted fd: %+v", f)
			}
		case h.PipeW:
			if f.Flags != "O_WRONLY|O_NONBLOCK" {
				t.Errorf("pipe write end flags %s", f.Flags)
			}
		case h.Eventfd:
			if f.AnonName != "[eventfd]" || f.Flags != "O_RDWR|O_CLOEXEC" {
				t.Errorf("eventfd: %+v", f)
			}
		case h.Pidfd:
			if f.Pidfd == nil || f.Pidfd.Pid != target || !slices.Equal(f.Pidfd.NSpid, []int{target}) {
				t.Errorf("pidfd refers to %+v, want pid %d", f.Pidfd, target)
			}
		case h.Nsfs:
			if f.Namespace == nil || f.Namespace.ID != wantNS.ID || f.Namespace.Type != "uts" || f.Namespace.Inode != wantNS.Ino {
				t.Errorf("nsfs fd: %+v, want uts id %d ino %d", f.Namespace, wantNS.ID, wantNS.Ino)
			}
		}
	}
	for n := range kinds {
		if !seen[n] {
			t.Errorf("helper fd %d missing", n)
		}
	}
}

// A non-root user reading root's process with fds is refused (4) and told
// which capability is missing (bad PIDs are in TestBadInput).
func TestFdsErrors(t *testing.T) {
	testutil.RequireRoot(t)
	sleeper := testutil.Command(t, testutil.Held, "sleep", "1000")
	startChild(t, sleeper)
	target := sleeper.Process.Pid
	r := runAs(t, nobody(), "fds", strconv.Itoa(target))
	if r.code != 4 || !strings.Contains(r.stderr, "CAP_SYS_PTRACE") {
		t.Errorf("fds of root's process as nobody: exit %d, stderr %q; want exit 4 naming CAP_SYS_PTRACE", r.code, r.stderr)
	}
}
