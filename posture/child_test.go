package posture

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// The test binary re-executes itself as the process Read looks at. The
// child's work is done in init, while the Go runtime keeps the main
// goroutine on the main thread: capabilities, no_new_privs and seccomp
// filters are per thread, and /proc/PID/status shows the main thread's.
const childEnv = "POSTURE_TEST_CHILD"

// What the hardened child changes, for the checks.
var (
	droppedBounding  = []int{unix.CAP_SYS_MODULE, unix.CAP_SYS_BOOT}
	droppedEffective = []int{unix.CAP_NET_RAW, unix.CAP_SYS_TIME}
	ambientCap       = unix.CAP_KILL
	childDevices     = []Device{
		{Path: "/dev/sub/testzero", Type: "c", Major: 1, Minor: 5},
		{Path: "/dev/testblk", Type: "b", Major: 7, Minor: 0},
		{Path: "/dev/testnull", Type: "c", Major: 1, Minor: 3},
	}
)

func init() {
	mode := os.Getenv(childEnv)
	if mode == "" {
		return
	}
	if mode == "hardened" {
		if err := harden(os.Getenv("POSTURE_MASK_FILE"), os.Getenv("POSTURE_MASK_DIR")); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
	}
	fmt.Println("ready")
	// Park until the test closes stdin or kills us.
	bufio.NewReader(os.Stdin).ReadString('\n')
	os.Exit(0)
}

// harden runs in a child started in a mount namespace of its own.
func harden(maskFile, maskDir string) error {
	steps := []struct {
		what string
		do   func() error
	}{
		{"bind /dev/null over " + maskFile, func() error { return unix.Mount("/dev/null", maskFile, "", unix.MS_BIND, "") }},
		{"read-only tmpfs over " + maskDir, func() error { return unix.Mount("tmpfs", maskDir, "tmpfs", unix.MS_RDONLY, "size=4k") }},
		{"bind /proc/sys over itself", func() error { return unix.Mount("/proc/sys", "/proc/sys", "", unix.MS_BIND, "") }},
		{"remount /proc/sys read-only", func() error {
			return unix.Mount("", "/proc/sys", "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, "")
		}},
		{"remount /sys read-only", func() error { return unix.Mount("", "/sys", "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, "") }},
		{"tmpfs on /dev", func() error { return unix.Mount("tmpfs", "/dev", "tmpfs", 0, "size=64k,mode=755") }},
		{"make /dev's nodes", func() error {
			if err := unix.Mkdir("/dev/sub", 0o755); err != nil {
				return err
			}
			for _, d := range childDevices {
				mode := uint32(unix.S_IFCHR)
				if d.Type == "b" {
					mode = unix.S_IFBLK
				}
				if err := unix.Mknod(d.Path, mode|0o600, int(unix.Mkdev(d.Major, d.Minor))); err != nil {
					return err
				}
			}
			// Symlinks the walk must not follow.
			if err := unix.Symlink("/", "/dev/escape"); err != nil {
				return err
			}
			return unix.Symlink("../../../../etc", "/dev/sub/up")
		}},
		{"prctl(PR_SET_NO_NEW_PRIVS)", func() error { return unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) }},
		{"prctl(PR_CAPBSET_DROP)", func() error {
			for _, c := range droppedBounding {
				if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil {
					return err
				}
			}
			return nil
		}},
		{"capset", func() error {
			hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
			var data [2]unix.CapUserData
			if err := unix.Capget(&hdr, &data[0]); err != nil {
				return err
			}
			for _, c := range droppedEffective {
				data[c/32].Effective &^= 1 << (c % 32)
				data[c/32].Permitted &^= 1 << (c % 32)
			}
			data[ambientCap/32].Inheritable |= 1 << (ambientCap % 32)
			return unix.Capset(&hdr, &data[0])
		}},
		{"prctl(PR_CAP_AMBIENT_RAISE)", func() error {
			return unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(ambientCap), 0, 0)
		}},
		{"seccomp filters", func() error {
			allow := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW}}
			prog := unix.SockFprog{Len: 1, Filter: &allow[0]}
			for i := 0; i < 2; i++ {
				if err := unix.Prctl(unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(&prog)), 0, 0); err != nil {
					return err
				}
			}
			return nil
		}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			return fmt.Errorf("%s: %w", s.what, err)
		}
	}
	return nil
}

// startChild starts the test binary as a child in mode, with extra
// environment and clone flags, and returns its pid once it is ready. The
// child is killed and reaped at cleanup; its mounts go with its mount
// namespace.
func startChild(t *testing.T, mode string, attr *syscall.SysProcAttr, env ...string) *exec.Cmd {
	t.Helper()
	testutil.RequireRoot(t)
	cmd := testutil.Command(t, testutil.Held, "/proc/self/exe", "-test.run=^$")
	cmd.Env = append(append(os.Environ(), childEnv+"="+mode), env...)
	cmd.SysProcAttr = attr
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the %s child: %v", mode, err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if line != "ready\n" {
		t.Fatalf("the %s child did not get ready: %q, %v", mode, strings.TrimSpace(line), err)
	}
	return cmd
}
