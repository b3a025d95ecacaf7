package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/procinfo"
)

// cloneCgroupJSON is what these tests read of `clone --json`.
type cloneCgroupJSON struct {
	Errno       *string  `json:"errno"`
	Explanation []string `json:"explanation"`
	Parent      struct {
		Cgroup []procinfo.Cgroup `json:"cgroups"`
	} `json:"parent"`
	Child struct {
		Cgroup []procinfo.Cgroup `json:"cgroups"`
	} `json:"child"`
}

func cgroupV2(cgs []procinfo.Cgroup) string {
	for _, cg := range cgs {
		if cg.HierarchyID == 0 {
			return cg.Path
		}
	}
	return ""
}

// --cgroup DIR names a cgroup outside nsinspect's own: nsinspect runs in
// cgroup a, the child is to go to its sibling b. Where the cgroup2
// hierarchy is mounted with nsdelegate (systemd's default), clone3 refuses
// CLONE_INTO_CGROUP into a cgroup outside the caller's cgroup namespace
// with ENOENT; so the lab, which has a cgroup namespace of its own rooted
// at a, keeps nsinspect's for CLONE_INTO_CGROUP, and the child lands in b
// whatever the mount options, its path read as nsinspect reads it. The
// kernel's rule itself is checked with --host from a cgroup namespace
// rooted at a (unshare --cgroup): ENOENT with nsdelegate, else the child
// in b, which that namespace shows as /../b. Pinned in
// docs/kernel-notes.md.
func TestCloneIntoCgroupOutsideOwn(t *testing.T) {
	testutil.RequireRoot(t)
	unshare := testutil.RequireCommand(t, "unshare", "util-linux")
	base, basePath := cgroup2Dir(t)
	a, b := filepath.Join(base, "a"), filepath.Join(base, "b")
	for _, d := range []string{a, b} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := os.Remove(d); err != nil {
				t.Errorf("removing %s: %v (a process nsinspect made is left in it)", d, err)
			}
		})
	}
	dirA, err := os.Open(a)
	if err != nil {
		t.Fatal(err)
	}
	defer dirA.Close()
	inA := func(argv ...string) (result, cloneCgroupJSON) {
		t.Helper()
		cmd := testutil.Command(t, testutil.Quick, argv[0], argv[1:]...)
		cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(dirA.Fd())}
		r := runCmd(t, cmd)
		var rep cloneCgroupJSON
		if r.code == 0 || r.code == 3 {
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
				t.Fatalf("%v: %v\n%s", argv, err, r.stdout)
			}
		}
		return r, rep
	}

	r, rep := inA(binary, "clone", "net", "--cgroup", b, "--json")
	if r.code != 0 || cgroupV2(rep.Child.Cgroup) != basePath+"/b" || cgroupV2(rep.Parent.Cgroup) != basePath+"/a" {
		t.Errorf("clone --cgroup %s from %s: exit %d, child in %q, parent in %q; want the child in %s/b and the parent in %s/a\n%s",
			b, a, r.code, cgroupV2(rep.Child.Cgroup), cgroupV2(rep.Parent.Cgroup), basePath, basePath, r.stderr)
	}

	nsdelegate := false
	self, err := procinfo.Self()
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	mounts, err := self.MountInfo()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mounts {
		if m.FSType == "cgroup2" && strings.HasPrefix(base, m.MountPoint+"/") {
			nsdelegate = strings.Contains(","+m.SuperOptions+",", ",nsdelegate,")
		}
	}
	r, rep = inA(unshare, "--cgroup", binary, "clone", "net", "--host", "--cgroup", b, "--json")
	switch {
	case nsdelegate:
		if r.code != 3 || rep.Errno == nil || *rep.Errno != "ENOENT" || len(rep.Explanation) == 0 || !strings.Contains(rep.Explanation[0], "nsdelegate") {
			t.Errorf("nsdelegate: clone3(CLONE_INTO_CGROUP) out of the caller's cgroup namespace: exit %d, errno %v, %q; want ENOENT explained\n%s", r.code, rep.Errno, rep.Explanation, r.stderr)
		}
	case r.code != 0 || cgroupV2(rep.Child.Cgroup) != "/../b" || cgroupV2(rep.Parent.Cgroup) != "/":
		t.Errorf("no nsdelegate: clone3(CLONE_INTO_CGROUP) out of the caller's cgroup namespace: exit %d, child in %q, parent in %q; want the child in b, seen as /../b\n%s",
			r.code, cgroupV2(rep.Child.Cgroup), cgroupV2(rep.Parent.Cgroup), r.stderr)
	}
	t.Logf("cgroup2 mounted with nsdelegate: %v", nsdelegate)
}
