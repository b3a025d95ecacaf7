package integration

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// startIn starts argv with attr (Pdeathsig added) and kills and reaps it
// at cleanup.
func startIn(t *testing.T, attr *syscall.SysProcAttr, extra []*os.File, argv ...string) *exec.Cmd {
	t.Helper()
	cmd := testutil.Command(t, testutil.Held, argv[0], argv[1:]...)
	attr.Pdeathsig = syscall.SIGKILL
	cmd.SysProcAttr, cmd.ExtraFiles = attr, extra
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %v: %v", argv, err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// nsKeys are the "type:ns" keys of ls --json of the links of pid (or of
// thread tid of pid).
func nsKeys(t *testing.T, dir string, links ...string) []string {
	t.Helper()
	var out []string
	for _, l := range links {
		s, err := os.Readlink(filepath.Join(dir, "ns", l))
		if err != nil {
			t.Fatal(err)
		}
		typ, ino, _ := strings.Cut(strings.TrimSuffix(s, "]"), ":[")
		out = append(out, typ+":"+ino)
	}
	return out
}

// TestBPFLsAgreesWithProc: `ls --source bpf --json` and `ls --source proc
// --json` print the same entry, field for field, for each namespace of a
// small population: processes in new user, pid, net, uts and ipc
// namespaces, a thread of the test that unshared its net and uts
// namespaces, a netns held by a bind mount, and a dead process's uts and
// user namespaces held by another's fds. A bind mount is compared without
// the pid its mountinfo was read through, which either source may choose.
// discover.TestBPFAgreesWithProc is the thorough comparison of the two
// sources; this one checks the whole way to the JSON.
func TestBPFLsAgreesWithProc(t *testing.T) {
	requireBPF(t)
	t.Cleanup(func() { testutil.NoChildren(t) })
	ids := []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}}
	group := testutil.Command(t, testutil.Held, "sh", "-c", "sleep 1000 & sleep 1000 & sleep 1000 & echo ready; exec sleep 1000")
	group.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC,
		UidMappings: ids, GidMappings: ids, Pdeathsig: syscall.SIGKILL,
	}
	out, err := group.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := group.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { group.Process.Kill(); group.Wait() })
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("group: %q, %v", line, err)
	}
	keys := nsKeys(t, fmt.Sprintf("/proc/%d", group.Process.Pid), "user", "pid", "net", "uts", "ipc")
	tid := testutil.ThreadUnshare(t, unix.CLONE_NEWNET|unix.CLONE_NEWUTS)
	keys = append(keys, nsKeys(t, fmt.Sprintf("/proc/self/task/%d", tid), "net", "uts")...)

	mount := filepath.Join(t.TempDir(), "netns")
	if err := os.WriteFile(mount, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	netns := startIn(t, &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNET}, nil, "sleep", "1000")
	if err := unix.Mount(fmt.Sprintf("/proc/%d/ns/net", netns.Process.Pid), mount, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(mount, unix.MNT_DETACH) })
	keys = append(keys, nsKeys(t, fmt.Sprintf("/proc/%d", netns.Process.Pid), "net")...)
	netns.Process.Kill()
	netns.Wait()

	dead := startIn(t, &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWUSER | unix.CLONE_NEWUTS, UidMappings: ids, GidMappings: ids}, nil, "sleep", "1000")
	var files []*os.File
	for _, l := range []string{"user", "uts"} {
		f, err := os.Open(fmt.Sprintf("/proc/%d/ns/%s", dead.Process.Pid, l))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	keys = append(keys, nsKeys(t, fmt.Sprintf("/proc/%d", dead.Process.Pid), "user", "uts")...)
	startIn(t, &syscall.SysProcAttr{}, files, "sleep", "1000")
	for _, f := range files {
		f.Close()
	}
	dead.Process.Kill()
	dead.Wait()

	bpf := decodeLs(t, "ls --source bpf", mustRun(t, "ls", "--source", "bpf", "--json"))
	proc := decodeLs(t, "ls --source proc", mustRun(t, "ls", "--source", "proc", "--json"))
	t.Logf("%d namespaces from bpf, %d from proc", len(bpf), len(proc))
	for _, k := range keys {
		b, p := bpf[k], proc[k]
		if b == nil || p == nil {
			t.Errorf("%s: in bpf %v, in proc %v; want both", k, b != nil, p != nil)
			continue
		}
		for _, e := range []lsEntry{b, p} {
			if ms, ok := e["bindmounts"].([]any); ok {
				for _, m := range ms {
					delete(m.(map[string]any), "pid")
				}
			}
		}
		if !reflect.DeepEqual(b, p) {
			t.Errorf("%s:\n bpf  %v\n proc %v", k, b, p)
		}
	}
}
