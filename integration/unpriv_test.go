package integration

import (
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// TestUnprivilegedCommands runs every command as nobody against a process
// of root's: each either works (exit 0) or fails with one line naming the
// capability it lacks. hold is left out: it parks until signalled and is
// run as nobody by its own tests.
func TestUnprivilegedCommands(t *testing.T) {
	testutil.RequireRoot(t)
	sleeper := testutil.Command(t, testutil.Held, "sleep", "1000")
	startChild(t, sleeper)
	root := strconv.Itoa(sleeper.Process.Pid)
	for _, c := range []struct {
		args []string
		code int    // 0, or the exit code of the refusal
		cap  string // what the refusal line must name
	}{
		{args: []string{"ls"}},
		{args: []string{"ls", "--tree"}},
		// What the kernel refused is printed as such, and the exit
		// code says the report is not whole.
		{args: []string{"compare", "self", root}, code: 4, cap: "CAP_SYS_PTRACE"},
		{args: []string{"show", root}, code: 4, cap: "CAP_SYS_PTRACE"},
		{args: []string{"fds", root}, code: 4, cap: "CAP_SYS_PTRACE"},
		{args: []string{"fds", "self"}},
		{args: []string{"kthreads"}},
		{args: []string{"nsproxy"}},
		{args: []string{"graph"}},
		{args: []string{"struct", "nsproxy"}},
		{args: []string{"explain", "net"}},
		// The lab is made in a new user namespace (allowed here).
		{args: []string{"clone", "net,files"}},
		{args: []string{"unshare", "net"}},
		{args: []string{"matrix"}},
		// Without a lab the kernel itself refuses, and the line says why.
		{args: []string{"clone", "net", "--host"}, code: 3, cap: "CAP_SYS_ADMIN"},
		{args: []string{"unshare", "net", "--host"}, code: 3, cap: "CAP_SYS_ADMIN"},
	} {
		what := "as nobody: " + strings.Join(c.args, " ")
		r := runAs(t, nobody(), c.args...)
		noCrash(t, what, r)
		if c.code == 0 {
			if r.code != 0 || r.stdout == "" {
				t.Errorf("%s: exit %d, stderr %q; want it to work", what, r.code, r.stderr)
			}
			// The views that read tasks say once that BPF is not
			// theirs to use (and they read /proc instead), naming
			// the capabilities it needs.
			stderr := r.stderr
			if note, rest, ok := strings.Cut(stderr, "\n"); ok && strings.HasPrefix(note, "nsinspect: note: BPF unavailable") {
				if !strings.Contains(note, "CAP_BPF") {
					t.Errorf("%s: %q does not name CAP_BPF", what, note)
				}
				stderr = rest
			}
			// A partial view says once what it could not read, and why.
			if stderr != "" && (strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "CAP_")) {
				t.Errorf("%s: stderr %q; want nothing or one line naming a capability", what, r.stderr)
			}
			continue
		}
		checkOneLineError(t, r, c.code, what)
		if !strings.Contains(r.stderr, c.cap) {
			t.Errorf("%s: %q does not name %s", what, r.stderr, c.cap)
		}
	}
}

// TestUnprivilegedUserNSRefused: where the kernel refuses unprivileged user
// namespaces, an unprivileged clone experiment exits 4 with one line
// saying so and what to do. The refusal is made without touching the
// host: user.max_user_namespaces is set to 0 in a user namespace of the
// test's own (the limit is per user namespace), and nsinspect runs inside
// it as nobody.
func TestUnprivilegedUserNSRefused(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireCommand(t, "setpriv", "util-linux")
	for _, args := range [][]string{{"clone", "net"}, {"unshare", "net"}, {"matrix"}} {
		script := `echo 0 > /proc/sys/user/max_user_namespaces || exit 100
exec setpriv --reuid=65534 --regid=65534 --clear-groups "$@"`
		cmd := testutil.Command(t, testutil.Quick, "sh", append([]string{"-c", script, "sh", binary}, args...)...)
		ids := []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 65536}}
		cmd.SysProcAttr = &syscall.SysProcAttr{
			Cloneflags: syscall.CLONE_NEWUSER, UidMappings: ids, GidMappings: ids,
			GidMappingsEnableSetgroups: true, Pdeathsig: syscall.SIGKILL,
		}
		r := runCmd(t, cmd)
		if r.code == 100 {
			t.Fatalf("could not set max_user_namespaces=0 in our user namespace: %s", r.stderr)
		}
		what := "refused userns: " + strings.Join(args, " ")
		checkOneLineError(t, r, 4, what)
		if !strings.Contains(r.stderr, "user namespaces") || !strings.Contains(r.stderr, "max_user_namespaces") {
			t.Errorf("%s: %q; want it to say unprivileged user namespaces are refused and which sysctl allows them", what, r.stderr)
		}
	}
}
