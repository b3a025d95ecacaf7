package procinfo

import (
	"errors"
	"os"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

const allParts = PartTIDs | PartFDs | PartIDMaps | PartCgroup | PartTimens | PartFS

// A live task of our own: every part is read, nothing is missing.
func TestSnapshotSelf(t *testing.T) {
	p, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s, err := p.Snapshot(allParts)
	if err != nil {
		t.Fatal(err)
	}
	cwd, _ := os.Getwd()
	if s.Zombie() || len(s.Missing) != 0 {
		t.Errorf("zombie %v, missing %v: want a live task with nothing missing", s.Zombie(), s.Missing)
	}
	if s.Stat.PID != os.Getpid() || s.Status.Pid != os.Getpid() || !slices.Contains(s.TIDs, os.Getpid()) || len(s.TIDs) != s.Status.Threads {
		t.Errorf("stat pid %d, status pid %d, tids %v (Threads %d)", s.Stat.PID, s.Status.Pid, s.TIDs, s.Status.Threads)
	}
	if len(s.Namespaces) != 10 || len(s.FDs) < 3 || len(s.UIDMap) == 0 || len(s.Cgroups) == 0 || s.Cwd != cwd || s.Root != "/" {
		t.Errorf("%d ns links, %d fds, uid_map %v, cgroups %v, cwd %q (want %q), root %q", len(s.Namespaces), len(s.FDs), s.UIDMap, s.Cgroups, s.Cwd, cwd, s.Root)
	}
}

// Only the parts asked for are read.
func TestSnapshotParts(t *testing.T) {
	p, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s, err := p.Snapshot(PartFS)
	if err != nil {
		t.Fatal(err)
	}
	if s.Cwd == "" || s.TIDs != nil || s.FDs != nil || s.UIDMap != nil || s.Cgroups != nil || len(s.Namespaces) != 10 {
		t.Errorf("PartFS read %+v", s)
	}
}

// A zombie (our child, exited, not reaped): what it released at exit is
// missing as released, never as an error, and pid and user, which hang
// off struct pid and the credentials, are still there.
func TestSnapshotZombie(t *testing.T) {
	cmd := testutil.Command(t, testutil.Held, "sh", "-c", "exit 0")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	var info unix.Siginfo
	if err := unix.Waitid(unix.P_PID, cmd.Process.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil); err != nil {
		t.Fatal(err)
	}
	p, err := Open(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s, err := p.Snapshot(allParts)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Zombie() {
		t.Fatalf("state %c, want a zombie", s.Stat.State)
	}
	released := map[string]bool{}
	for _, m := range s.Missing {
		if m.Cause != CauseReleased || m.Reason != ReasonReleased {
			t.Errorf("%s: cause %d, reason %q; a zombie's missing fields are released", m.Field, m.Cause, m.Reason)
		}
		released[m.Field] = true
	}
	for _, f := range []string{"cwd", "root", "ns/net", "ns/mnt", "ns/uts"} {
		if !released[f] {
			t.Errorf("%s not missing as released: %v", f, s.Missing)
		}
	}
	for _, f := range []string{"ns/pid", "ns/user"} {
		if released[f] {
			t.Errorf("%s released: a zombie's struct pid and cred keep them", f)
		}
	}
}

// A task that is gone is a FieldError that matches ErrProcessGone.
func TestSnapshotGone(t *testing.T) {
	cmd := testutil.Command(t, testutil.Held, "sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p, err := Open(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	cmd.Process.Kill()
	cmd.Wait()
	_, err = p.Snapshot(allParts)
	var fe *FieldError
	if !errors.As(err, &fe) || !errors.Is(err, ErrProcessGone) {
		t.Fatalf("snapshot of a reaped task: %v, want a FieldError matching ErrProcessGone", err)
	}
}
