package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/features"
	"github.com/nsinspect/nsinspect/internal/linux"
	"github.com/nsinspect/nsinspect/internal/testutil"
)

// mountedNetns makes a network namespace as `ip netns add` does (a file
// under /run/netns bind-mounted over the ns link of a process made in it,
// which then exits) without iproute2, which the kernel matrix's VMs lack,
// returns its path and ls key, and removes it at cleanup if the test has
// not (also when it fails half-way).
func mountedNetns(t *testing.T, suffix string) (path, key string) {
	t.Helper()
	if err := os.MkdirAll("/run/netns", 0o755); err != nil {
		t.Fatal(err)
	}
	path = fmt.Sprintf("/run/netns/nsinspect-it-%d-%s", os.Getpid(), suffix)
	if err := os.WriteFile(path, nil, 0o444); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := os.Stat(path); err == nil {
			netnsDel(t, path)
		}
	})
	maker := startIn(t, &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNET}, nil, "sleep", "1000")
	if err := unix.Mount(fmt.Sprintf("/proc/%d/ns/net", maker.Process.Pid), path, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind-mounting a netns on %s: %v", path, err)
	}
	maker.Process.Kill()
	maker.Wait()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return path, "net:" + strconv.FormatUint(st.Ino, 10)
}

// netnsDel removes a namespace mountedNetns made as `ip netns del` does:
// the mount detached, the file removed.
func netnsDel(t *testing.T, path string) {
	t.Helper()
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil {
		t.Errorf("unmounting %s: %v", path, err)
	}
	if err := os.Remove(path); err != nil {
		t.Error(err)
	}
}

// nsfsDev is the device every nsfs inode is on.
func nsfsDev(t *testing.T) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/ns/net", &st); err != nil {
		t.Fatal(err)
	}
	return st.Dev
}

// fdHeldThroughPath: a process holds a network namespace only through an
// fd it opened on /run/netns/NAME, whose bind mount was then removed (as
// `ip netns del` does). The fd's link reads "/" (the detached mount's path), not
// "net:[INODE]"; stat through it shows nsfs's device and the namespace's
// inode, which is how the /proc walk knows it.
func fdHeldThroughPath(t *testing.T) (key, source, holders string, want []any) {
	path, key := mountedNetns(t, "fd")
	holder := testutil.StartReady(t, "sh", "-c", "exec 7<"+path+"; echo ready; exec sleep 1000")
	pid := holder.Process.Pid
	testutil.WaitComm(t, pid, "sleep")
	netnsDel(t, path)
	link := fmt.Sprintf("/proc/%d/fd/7", pid)
	text, err := os.Readlink(link)
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(link, &st); err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(text, "net:[") || st.Dev != nsfsDev(t) || "net:"+strconv.FormatUint(st.Ino, 10) != key {
		t.Fatalf("%s reads %q, stat dev %d ino %d; the kernel was seen showing the path, nsfs's device %d and %s", link, text, st.Dev, st.Ino, nsfsDev(t), key)
	}
	return key, "fd", "fds", []any{map[string]any{"pid": num(pid), "fd": num(7)}}
}

// socketHeld: a thread of ours setns(2)s into a named network namespace,
// makes a socket there and setns(2)s back; a sleep inherits the socket as
// fd 3, we close ours and the bind mount is removed. The
// socket is the namespace's only reference. SIOCGSKNS on it opens the
// namespace.
func socketHeld(t *testing.T) (key, source, holders string, want []any) {
	path, key := mountedNetns(t, "socket")
	var sock int
	_, err := testutil.OnThread(t, func() error {
		back, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(back)
		there, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(there)
		if err := unix.Setns(there, unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("setns into %s: %w", path, err)
		}
		sock, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if serr := unix.Setns(back, unix.CLONE_NEWNET); serr != nil {
			// The thread stays parked until the test ends: it
			// never runs other goroutines in that namespace.
			return fmt.Errorf("setns back: %w", serr)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(sock), "socket")
	nsfd, err := unix.IoctlRetInt(sock, unix.SIOCGSKNS)
	if err != nil {
		f.Close()
		t.Fatalf("SIOCGSKNS: %v", err)
	}
	var st unix.Stat_t
	err = unix.Fstat(nsfd, &st)
	unix.Close(nsfd)
	if err != nil || "net:"+strconv.FormatUint(st.Ino, 10) != key {
		f.Close()
		t.Fatalf("SIOCGSKNS of a socket made in %s: ino %d (%v), want %s", path, st.Ino, err, key)
	}
	holder := startIn(t, &syscall.SysProcAttr{}, []*os.File{f}, "sleep", "1000")
	f.Close()
	testutil.WaitComm(t, holder.Process.Pid, "sleep")
	netnsDel(t, path)
	return key, "socket", "sockets", []any{map[string]any{"pid": num(holder.Process.Pid), "fd": num(3)}}
}

// parentOnly: the middle user namespace of `unshare -Ur unshare -Ur`,
// which no process is in: the inner one's parent (NS_GET_PARENT) holds it.
func parentOnly(t *testing.T) (key, source, holders string, want []any) {
	testutil.RequireCommand(t, "unshare", "util-linux")
	inner := testutil.StartReady(t, "unshare", "-Ur", "unshare", "-Ur", "sh", "-c", "echo ready; exec sleep 1000")
	testutil.WaitComm(t, inner.Process.Pid, "sleep")
	fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/user", inner.Process.Pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	parent, err := unix.IoctlRetInt(fd, unix.NS_GET_PARENT)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(parent)
	var st unix.Stat_t
	if err := unix.Fstat(parent, &st); err != nil {
		t.Fatal(err)
	}
	return "user:" + strconv.FormatUint(st.Ino, 10), "parent", "", nil
}

// unbornPID: `unshare -p` without --fork. Its new pid namespace has no
// process yet; /proc/PID/ns/pid_for_children answers ENOENT (before
// Linux 7.1), and PIDFD_GET_PID_FOR_CHILDREN_NAMESPACE (Linux 6.11) opens
// it.
func unbornPID(t *testing.T) (key, source, holders string, want []any) {
	testutil.RequireCommand(t, "unshare", "util-linux")
	if !features.Has(features.PidfdNamespaces) {
		testutil.Unavailable(t, "the /proc walk finds an unborn pid namespace through PIDFD_GET_PID_FOR_CHILDREN_NAMESPACE (Linux 6.11)", "run on Linux 6.11 or later")
	}
	cmd := testutil.StartReady(t, "unshare", "-p", "sh", "-c", "echo ready; exec sleep 1000")
	pid := cmd.Process.Pid
	testutil.WaitComm(t, pid, "sleep")
	link, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid_for_children", pid))
	switch {
	case features.PidForChildrenBeforeInit():
		// From Linux 7.1 the link opens before the namespace's init.
		if err != nil || !strings.HasPrefix(link, "pid:[") {
			t.Fatalf("pid_for_children of %d before its first child: %q, %v; Linux 7.1 and later were seen to open it", pid, link, err)
		}
	case err == nil || !os.IsNotExist(err):
		t.Fatalf("pid_for_children of %d before its first child: %v; the kernel was seen answering ENOENT", pid, err)
	}
	pidfd, err := linux.PidfdOpen(pid)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pidfd)
	fd, err := linux.PidfdGetNamespace(pidfd, linux.PIDFD_GET_PID_FOR_CHILDREN_NAMESPACE)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	return "pid:" + strconv.FormatUint(st.Ino, 10), "for_children,unborn", "", nil
}

// num is n as decodeLs decodes a JSON number.
func num(n int) any { return json.Number(strconv.Itoa(n)) }

// lsnsVersion is the version of util-linux's lsns, as major and minor.
func lsnsVersion(t *testing.T) [2]int {
	t.Helper()
	testutil.RequireCommand(t, "lsns", "util-linux")
	out := testutil.MustRun(t, testutil.Command(t, testutil.Quick, "lsns", "--version"))
	f := strings.Fields(out)
	var v [2]int
	if len(f) > 0 {
		parts := strings.SplitN(f[len(f)-1], ".", 3)
		if len(parts) >= 2 {
			v[0], _ = strconv.Atoi(parts[0])
			v[1], _ = strconv.Atoi(parts[1])
		}
	}
	if v[0] == 0 {
		t.Fatalf("lsns --version: %q: no version", out)
	}
	return v
}

// bindMountOnly: a network namespace held only by its bind mount on
// /run/netns/NAME, in our own mount namespace: NSFS names the path.
func bindMountOnly(t *testing.T) (key, source, holders string, want []any) {
	_, key = mountedNetns(t, "mount")
	return key, "bindmount", "nsfs", nil
}

// lsSources are the sources TestLsHoldersAgree asks: listns where the
// kernel has listns(2).
func lsSources() []string {
	if features.Has(features.Listns) {
		return []string{"bpf", "proc", "listns"}
	}
	return []string{"bpf", "proc"}
}

// withoutMountPIDs is e with the pid of each bind mount dropped: the
// process through which a source read its mount namespace's mountinfo,
// any process in it.
func withoutMountPIDs(e lsEntry) lsEntry {
	out := lsEntry{}
	for k, v := range e {
		out[k] = v
	}
	if bms, ok := e["bindmounts"].([]any); ok {
		var c []any
		for _, b := range bms {
			m := map[string]any{}
			for k, v := range b.(map[string]any) {
				if k != "pid" {
					m[k] = v
				}
			}
			c = append(c, m)
		}
		out["bindmounts"] = c
	}
	return out
}

// holderCases are the holders TestLsHoldersAgree makes, each returning
// the namespace's ls key, its sources, and the key and value of its
// holders.
var holderCases = []struct {
	name string
	make func(*testing.T) (key, source, holders string, want []any)
}{
	{"fd-through-path", fdHeldThroughPath},
	{"socket", socketHeld},
	{"bindmount", bindMountOnly},
	{"parent-only", parentOnly},
	{"unborn-pid", unbornPID},
}

// TestLsHoldersAgree makes each kind of holder that only a closer look
// finds, with real kernel objects and nothing else holding the namespace,
// and checks that `ls --source proc`, `--source bpf` and, on Linux 6.19+,
// `--source listns` list it alike (every key of the entry), with no
// process in it and the sources and holders it was made with. A socket
// does not make its network namespace active, so listns(2) itself does
// not list the socket-held one: the listns source finds it, with its
// holder, through its /proc walk. util-linux 2.38's lsns lists none of
// them (TestLsHoldersMissedByLsns).
func TestLsHoldersAgree(t *testing.T) {
	requireBPF(t)
	t.Cleanup(func() { testutil.NoChildren(t) })
	for _, c := range holderCases {
		t.Run(c.name, func(t *testing.T) {
			key, source, holders, want := c.make(t)
			ls := map[string]lsEntry{}
			for _, src := range lsSources() {
				all := decodeLs(t, "ls --source "+src, mustRun(t, "ls", "--source", src, "--json"))
				e := all[key]
				if e == nil {
					t.Errorf("%s: ls --source %s does not list it", key, src)
					continue
				}
				ls[src] = withoutMountPIDs(e)
				if got := fmt.Sprint(e["sources"]); got != "["+strings.ReplaceAll(source, ",", " ")+"]" {
					t.Errorf("%s: ls --source %s: sources %s, want [%s]", key, src, got, source)
				}
				if fmt.Sprint(e["nprocs"]) != "0" || e["pid"] != nil {
					t.Errorf("%s: ls --source %s: nprocs %v pid %v, want 0 and null", key, src, e["nprocs"], e["pid"])
				}
				switch {
				case holders == "nsfs":
					if path := "/run/netns/nsinspect-it-" + strconv.Itoa(os.Getpid()) + "-mount"; e["nsfs"] != path {
						t.Errorf("%s: ls --source %s: nsfs %v, want %s", key, src, e["nsfs"], path)
					}
				case holders != "" && !reflect.DeepEqual(e[holders], any(want)):
					t.Errorf("%s: ls --source %s: %s %v, want %v", key, src, holders, e[holders], want)
				}
			}
			for _, src := range lsSources()[1:] {
				if ls["bpf"] != nil && ls[src] != nil && !reflect.DeepEqual(ls["bpf"], ls[src]) {
					t.Errorf("%s:\n bpf  %v\n %-4s %v", key, ls["bpf"], src, ls[src])
				}
			}
			if c.name == "socket" && features.Has(features.Listns) && ls["listns"] != nil {
				id, err := strconv.ParseUint(fmt.Sprint(ls["listns"]["id"]), 10, 64)
				ids, lerr := linux.Listns(unix.CLONE_NEWNET)
				if err != nil || lerr != nil {
					t.Fatalf("%s: id %v (%v); listns: %v", key, ls["listns"]["id"], err, lerr)
				}
				if slices.Contains(ids, id) {
					t.Errorf("%s (id %d), held only by a socket, is listed by listns(2): a socket was seen not to make its namespace active", key, id)
				}
			}
		})
	}
}

// TestLsHoldersMissedByLsns: util-linux 2.38's lsns lists none of the
// namespaces TestLsHoldersAgree makes (lsns 2.40 and later lists those
// held by fds and sockets). Apart from it, since the kernel matrix's VMs
// have no lsns.
func TestLsHoldersMissedByLsns(t *testing.T) {
	testutil.RequireRoot(t)
	v := lsnsVersion(t)
	t.Cleanup(func() { testutil.NoChildren(t) })
	for _, c := range holderCases {
		t.Run(c.name, func(t *testing.T) {
			key, _, _, _ := c.make(t)
			typ, _, _ := strings.Cut(key, ":")
			_, listed := lsnsJSON(t, "-t", typ)[key]
			if listed && (v[0] < 2 || (v[0] == 2 && v[1] < 40)) {
				t.Errorf("%s: lsns %d.%d lists it; it was seen not to", key, v[0], v[1])
			}
		})
	}
}
