package posture

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/features"
	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/procinfo"
)

func pin(t *testing.T, pid int) *procinfo.Proc {
	t.Helper()
	p, err := procinfo.Open(pid)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// ownStatus is the test process's own status, as the baseline a plain
// child inherits.
func ownStatus(t *testing.T) Status {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseStatus(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func hasPath(l PathList, path, how string) bool {
	for _, p := range l.Paths {
		if p.Path == path && p.How == how {
			return true
		}
	}
	return false
}

func hasSensitive(s SensitiveMounts, path, kind string) bool {
	for _, m := range s.Mounts {
		if m.Path == path && m.Kind == kind {
			return true
		}
	}
	return false
}

// maskDir picks a directory runc would mask that this kernel has.
func maskDir(t *testing.T) string {
	for _, c := range MaskCandidates {
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			return c
		}
	}
	return "/sys/kernel" // every kernel with sysfs has it
}

func TestReadHardenedChild(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckLeaks(t) // first, so it checks after the child's cleanup
	maskFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(maskFile, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := maskDir(t)
	cmd := startChild(t, "hardened", &syscall.SysProcAttr{Unshareflags: unix.CLONE_NEWNS},
		"POSTURE_MASK_FILE="+maskFile, "POSTURE_MASK_DIR="+dir)
	self := pin(t, os.Getpid())
	f, err := Read(pin(t, cmd.Process.Pid), self)
	if err != nil {
		t.Fatal(err)
	}

	if !f.NoNewPrivs.Value || f.NoNewPrivs.Err != "" {
		t.Errorf("no_new_privs = %+v, want true", f.NoNewPrivs)
	}
	if f.Seccomp.Mode != "filter" || f.Seccomp.Filters != 2 {
		t.Errorf("seccomp = %+v, want filter with 2 filters", f.Seccomp)
	}
	c := f.Capabilities
	if c.Err != "" {
		t.Errorf("capabilities: %s", c.Err)
	}
	for _, bit := range droppedBounding {
		name := CapNames(1 << bit)[0]
		if slices.Contains(c.Bounding, name) {
			t.Errorf("bounding set still has %s: %v", name, c.Bounding)
		}
	}
	for _, bit := range droppedEffective {
		name := CapNames(1 << bit)[0]
		if slices.Contains(c.Effective, name) || slices.Contains(c.Permitted, name) {
			t.Errorf("effective or permitted still has %s", name)
		}
	}
	if !slices.Contains(c.Effective, "CAP_SYS_ADMIN") || !slices.Contains(c.Bounding, "CAP_SYS_ADMIN") {
		t.Errorf("CAP_SYS_ADMIN should stay: %+v", c)
	}
	kill := []string{"CAP_KILL"}
	if !sameStrings(c.Inheritable, kill) || !sameStrings(c.Ambient, kill) {
		t.Errorf("inheritable %v ambient %v, want %v", c.Inheritable, c.Ambient, kill)
	}

	if !hasPath(f.MaskedPaths, maskFile, "bind mount of /dev/null") || !hasPath(f.MaskedPaths, dir, "empty read-only tmpfs") || len(f.MaskedPaths.Paths) != 2 {
		t.Errorf("masked paths %+v, want %s and %s", f.MaskedPaths, maskFile, dir)
	}
	for _, p := range []string{"/proc/sys", "/sys", dir} {
		if !hasPath(f.ReadonlyPaths, p, "mount option ro") {
			t.Errorf("read-only paths %+v lack %s", pathsOf(f.ReadonlyPaths), p)
		}
	}
	for _, p := range append(f.MaskedPaths.Paths, f.ReadonlyPaths.Paths...) {
		if p.Evidence.Line == 0 || !strings.Contains(p.Evidence.Text, " "+p.Path+" ") {
			t.Errorf("%s: evidence %+v", p.Path, p.Evidence)
		}
	}
	if !slices.Equal(f.Devices.Nodes, childDevices) || f.Devices.Err != "" {
		t.Errorf("devices %+v (error %q), want %+v", f.Devices.Nodes, f.Devices.Err, childDevices)
	}
	// The child's /proc is still the host's procfs, bound in by the copy
	// of the mount namespace.
	if !hasSensitive(f.SensitiveMounts, "/proc", KindHostProc) {
		t.Errorf("sensitive mounts %q lack host-proc at /proc", sensitiveOf(f.SensitiveMounts))
	}
	for _, link := range namespaces.Links {
		n := f.Namespaces[link.Name]
		if n.Err != "" || !n.Proven || n.Shared != (link.Name != "mnt") {
			t.Errorf("%s: %+v, want shared = %v", link.Name, n, link.Name != "mnt")
		}
	}
	checkCommon(t, f)
}

// checkCommon checks the facts any child of the test shares with it.
func checkCommon(t *testing.T, f *Facts) {
	t.Helper()
	if !f.UIDMap.Identity || !f.GIDMap.Identity || !f.UIDMap.RootIsHostRoot {
		t.Errorf("uid map %+v gid map %+v, want the initial identity", f.UIDMap, f.GIDMap)
	}
	own, _ := os.ReadFile("/proc/self/cgroup")
	version := 2
	for _, l := range strings.Split(string(own), "\n") {
		if f := strings.SplitN(l, ":", 3); len(f) == 3 && (strings.Contains(","+f[1]+",", ",pids,") || strings.Contains(","+f[1]+",", ",memory,")) {
			version = 1
		}
	}
	if f.Cgroup.Err != "" || f.Cgroup.Version != version || !strings.HasPrefix(f.Cgroup.Path, "/") {
		t.Errorf("cgroup %+v, want version %d", f.Cgroup, version)
	}
	label, err := os.ReadFile("/proc/self/attr/current")
	switch {
	case errors.Is(err, unix.EINVAL):
		if f.LSM.Label != nil || f.LSM.Reason != noTaskLabel {
			t.Errorf("lsm %+v, want no label (EINVAL)", f.LSM)
		}
	case err == nil:
		// A child runs under its parent's label unless a policy changes it on exec.
		if want := ParseAttr(label); (want == nil) != (f.LSM.Label == nil) {
			t.Errorf("lsm %+v, own label %q", f.LSM, label)
		}
	}
	if f.LSM.Err != "" {
		t.Errorf("lsm: %s", f.LSM.Err)
	}
}

func TestReadPlainChild(t *testing.T) {
	testutil.RequireRoot(t)
	own := ownStatus(t)
	if own.Seccomp.Value != 0 || own.NoNewPrivs.Value != 0 {
		testutil.Unavailable(t, "the test process itself runs under seccomp or no_new_privs", "run the tests outside a confined container")
	}
	cmd := startChild(t, "plain", nil)
	f, err := Read(pin(t, cmd.Process.Pid), pin(t, os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	if f.Seccomp.Mode != "disabled" || f.Seccomp.Filters != 0 || f.NoNewPrivs.Value {
		t.Errorf("seccomp %+v no_new_privs %+v, want disabled and false", f.Seccomp, f.NoNewPrivs)
	}
	if want := CapNames(own.CapEff.Value); !sameStrings(f.Capabilities.Effective, want) {
		t.Errorf("effective %v, want the parent's %v", f.Capabilities.Effective, want)
	}
	if len(f.MaskedPaths.Paths) != 0 || f.MaskedPaths.Err != "" {
		t.Errorf("masked paths %+v, want none", f.MaskedPaths)
	}
	for _, link := range namespaces.Links {
		if n := f.Namespaces[link.Name]; !n.Shared || !n.Proven || n.Err != "" || n.Target != n.Reference {
			t.Errorf("%s: %+v, want shared with the test process", link.Name, n)
		}
	}
	if !hasSensitive(f.SensitiveMounts, "/proc", KindHostProc) || !hasSensitive(f.SensitiveMounts, "/", KindHostRoot) {
		t.Errorf("sensitive mounts %q: the host's own /proc and / should be there", sensitiveOf(f.SensitiveMounts))
	}
	null := Device{Path: "/dev/null", Type: "c", Major: 1, Minor: 3}
	if !slices.Contains(f.Devices.Nodes, null) || !slices.IsSortedFunc(f.Devices.Nodes, func(a, b Device) int { return strings.Compare(a.Path, b.Path) }) {
		t.Errorf("devices %+v: want /dev/null among them, sorted", f.Devices.Nodes)
	}
	checkCommon(t, f)
}

// requireInitialNamespaces stops a test whose proofs need the test
// process to run in the kernel's initial namespaces.
func requireInitialNamespaces(t *testing.T) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/ns/user", &st); err != nil || st.Ino != initIno[namespaces.User].ino {
		testutil.Unavailable(t, "the test process is not in the kernel's initial user namespace", "run the tests on the host")
	}
}

func TestReadWithoutReference(t *testing.T) {
	testutil.RequireRoot(t)
	requireInitialNamespaces(t)
	fixedNetMnt := features.ReleaseAtLeast(6, 17)
	for _, tc := range []struct {
		name     string
		attr     *syscall.SysProcAttr
		separate []string
	}{
		{"host", nil, nil},
		{"new-ipc-uts", &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWIPC | unix.CLONE_NEWUTS}, []string{"ipc", "uts"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := startChild(t, "plain", tc.attr)
			f, err := Read(pin(t, cmd.Process.Pid), nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, link := range namespaces.Links {
				n := f.Namespaces[link.Name]
				if n.Err != "" || n.Reference != "" {
					t.Errorf("%s: %+v", link.Name, n)
					continue
				}
				switch {
				case slices.Contains(tc.separate, link.Name):
					if n.Shared || !n.Proven || !strings.Contains(n.Why, "not the kernel's initial") {
						t.Errorf("%s: %+v, want proven separate", link.Name, n)
					}
				case (link.Type == namespaces.Net || link.Type == namespaces.Mount) && !fixedNetMnt:
					if n.Proven || !strings.Contains(n.Why, "6.17") {
						t.Errorf("%s on %s: %+v, want unproven (no fixed inode before 6.17)", link.Name, features.Kernel().Release, n)
					}
				default:
					want := initIno[link.Type]
					if !n.Shared || !n.Proven || !strings.Contains(n.Why, want.name) {
						t.Errorf("%s: %+v, want proven shared via %s", link.Name, n, want.name)
					}
				}
				if len(n.Evidence) != 2 || !strings.HasPrefix(n.Evidence[0].Call, "readlink /proc/") || !strings.Contains(n.Evidence[1].Call, " ino ") {
					t.Errorf("%s: evidence %+v", link.Name, n.Evidence)
				}
			}
			if f.SensitiveMounts.Note == "" {
				t.Error("without a reference the sensitive mounts must say what they could not decide")
			}
		})
	}
}

func TestReadTargetGone(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckLeaks(t)
	t.Run("before", func(t *testing.T) {
		cmd := startChild(t, "plain", nil)
		target := pin(t, cmd.Process.Pid)
		cmd.Process.Kill()
		cmd.Wait()
		f, err := Read(target, nil)
		if !errors.Is(err, procinfo.ErrProcessGone) || f != nil {
			t.Fatalf("Read of a reaped process = %v, %v; want no facts and ErrProcessGone", f, err)
		}
	})
	t.Run("mid-read", func(t *testing.T) {
		cmd := startChild(t, "plain", nil)
		target := pin(t, cmd.Process.Pid)
		afterReads = func() { cmd.Process.Kill(); cmd.Wait() }
		t.Cleanup(func() { afterReads = func() {} })
		f, err := Read(target, pin(t, os.Getpid()))
		if !errors.Is(err, procinfo.ErrProcessGone) || f != nil {
			t.Fatalf("Read of a process that exits while read = %v, %v; want no facts and ErrProcessGone", f, err)
		}
		if !strings.Contains(err.Error(), "exited") {
			t.Errorf("error %q should say the process exited", err)
		}
	})
}

func TestReadSelfAgainstItself(t *testing.T) {
	testutil.RequireRoot(t)
	self := pin(t, os.Getpid())
	f, err := Read(self, self)
	if err != nil {
		t.Fatal(err)
	}
	for name, n := range f.Namespaces {
		if !n.Shared || !n.Proven {
			t.Errorf("%s: %+v", name, n)
		}
	}
}
