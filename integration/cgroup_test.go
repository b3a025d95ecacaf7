package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/procinfo"
)

// cgroup2Dir makes a fresh, empty cgroup v2 directory for one test and
// removes it at cleanup; where no cgroup2 hierarchy is mounted (a host on
// cgroup v1 alone), it mounts one on a temporary directory first. It
// returns the directory and its path as the hierarchy names it.
func cgroup2Dir(t *testing.T) (dir, path string) {
	t.Helper()
	self, err := procinfo.Self()
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	mounts, err := self.MountInfo()
	if err != nil {
		t.Fatal(err)
	}
	mnt := ""
	for _, m := range mounts {
		if m.FSType == "cgroup2" && m.Root == "/" {
			mnt = m.MountPoint
			break
		}
	}
	if mnt == "" {
		mnt = t.TempDir()
		if err := unix.Mount("none", mnt, "cgroup2", 0, ""); err != nil {
			testutil.Unavailable(t, fmt.Sprintf("no cgroup2 hierarchy is mounted and mounting one failed: %v", err), "run as root on a kernel with cgroup v2")
		}
		t.Cleanup(func() { unix.Unmount(mnt, unix.MNT_DETACH) })
	}
	own := "/"
	cgs, err := self.Cgroups()
	if err != nil {
		t.Fatal(err)
	}
	for _, cg := range cgs {
		if cg.HierarchyID == 0 {
			own = cg.Path
		}
	}
	// A sibling of our own cgroup: a cgroup with processes may not have
	// children that take processes ("no internal processes"); the root
	// is exempt.
	parent := filepath.Dir(own)
	if own == "/" {
		parent = "/"
	}
	path = filepath.Join(parent, fmt.Sprintf("nsinspect-test-%d", os.Getpid()))
	dir = filepath.Join(mnt, path)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("making a test cgroup: %v", err)
	}
	t.Cleanup(func() {
		// Every process nsinspect made is reaped before it exits, so the
		// cgroup is empty again and can go.
		if err := os.Remove(dir); err != nil {
			t.Errorf("removing the test cgroup %s: %v (a process is left in it)", dir, err)
		}
	})
	return dir, path
}

// clone --cgroup DIR makes the child with clone3(CLONE_INTO_CGROUP) in
// DIR, and the report shows it there and the parent not.
func TestCloneIntoCgroupDir(t *testing.T) {
	testutil.RequireRoot(t)
	dir, path := cgroup2Dir(t)
	var rep struct {
		Syscall string   `json:"syscall"`
		Flags   []string `json:"flags"`
		Cgroup  string   `json:"cgroup"`
		Parent  struct {
			Cgroup []procinfo.Cgroup `json:"cgroups"`
		} `json:"parent"`
		Child struct {
			Cgroup []procinfo.Cgroup `json:"cgroups"`
		} `json:"child"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "clone", "net", "--cgroup", dir, "--json")), &rep); err != nil {
		t.Fatal(err)
	}
	// The lab has its own cgroup namespace, rooted at nsinspect's cgroup:
	// the child's path is the test cgroup's, seen from there.
	base := "/" + filepath.Base(path)
	if rep.Syscall != "clone3" || rep.Cgroup != dir || !strings.HasSuffix(cgroupV2(rep.Child.Cgroup), base) || strings.HasSuffix(cgroupV2(rep.Parent.Cgroup), base) {
		t.Errorf("clone --cgroup %s: syscall %s, flags %v, cgroup %q, child in %q, parent in %q; want clone3, the child alone in %s",
			dir, rep.Syscall, rep.Flags, rep.Cgroup, cgroupV2(rep.Child.Cgroup), cgroupV2(rep.Parent.Cgroup), base)
	}
	if out := mustRun(t, "clone", "net", "--cgroup", dir); !strings.Contains(out, "CLONE_INTO_CGROUP: clone3 was given an fd on "+dir) {
		t.Errorf("the table does not say where CLONE_INTO_CGROUP put the child:\n%s", out)
	}
	for _, bad := range []string{t.TempDir(), "/nonexistent-cgroup"} {
		r := nsinspect(t, "clone", "net", "--cgroup", bad)
		checkOneLineError(t, r, 2, "--cgroup "+bad)
	}
}
