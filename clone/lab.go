package clone

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/procinfo"
)

// LabArg0 is the argv[0] under which nsinspect re-executes itself as a lab
// (the moby/sys/reexec pattern): main calls LabMain when it sees it.
const LabArg0 = "nsinspect-lab"

// labNamespaces are the namespaces a lab is made in. Its time namespace is
// made later, by unshare(CLONE_NEWTIME) on the thread that spawns the
// experiment's parent, because clone(2) cannot pass CLONE_NEWTIME.
const labNamespaces = unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET |
	unix.CLONE_NEWPID | unix.CLONE_NEWCGROUP

// probeDir is where the mount probe mounts, inside the lab's own /tmp.
const probeDir = "/tmp/nsinspect-probe"

// Request is one experiment, as the CLI asks for it.
type Request struct {
	Flags  FlagSet `json:"flags"`
	Clone3 bool    `json:"clone3"` // use clone3 even when clone would do
	Probes bool    `json:"probes"`
	// Identity limits the report to namespace ids, kcmp and the fd tables:
	// no mounts, links, IPC objects or hostname, and no probes.
	Identity bool `json:"identity"`
	Exec     bool `json:"exec"`   // add the view after the child execs
	Host     bool `json:"host"`   // run from nsinspect's own namespaces
	UserNS   bool `json:"userns"` // make the lab inside a new user namespace
	// Cgroup is the cgroup v2 directory CLONE_INTO_CGROUP puts the child
	// in; empty means nsinspect's own cgroup.
	Cgroup string `json:"cgroup,omitempty"`
	// CgroupFD is set by runLab for the lab, never by callers: the fd the
	// lab inherits on Cgroup, opened by nsinspect before the lab mounted
	// its own /tmp and /proc, so that any path nsinspect can open works.
	CgroupFD int `json:"cgroup_fd,omitempty"`

	Op     string    `json:"op"`     // what the lab does: clone (default), unshare, matrix
	Thread bool      `json:"thread"` // unshare: on one thread of a two-thread process
	Matrix []FlagSet `json:"matrix"` // matrix: the flag sets, one experiment each
}

const (
	opNameClone   = "clone"
	opNameUnshare = "unshare"
	opNameMatrix  = "matrix"
)

// IsLab reports whether this process was started as a lab.
func IsLab() bool { return filepath.Base(os.Args[0]) == LabArg0 }

// Run carries out one experiment: in a lab unless req.Host. The report
// holds the kernel's refusal, if any; err is for everything else.
func Run(req Request) (*Report, error) {
	if req.Flags.Has(unix.CLONE_INTO_CGROUP) && req.Cgroup == "" {
		dir, err := OwnCgroupDir()
		if err != nil {
			return nil, err
		}
		req.Cgroup = dir
	}
	req.Op = opNameClone
	if err := req.needs(); err != nil {
		return nil, err
	}
	if req.Host {
		var rep *Report
		err := onHost(func() (err error) { rep, err = experimentReport(req, "host"); return })
		return rep, err
	}
	var rep Report
	if err := runLab(req, &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

// onHost runs an experiment from nsinspect's own process. Orphans of the
// experiment (the child, once its parent died) come back to us to be
// reaped rather than to init, and the goroutine stays on the thread that
// spawned the parent, whose death the parent's PDEATHSIG watches.
func onHost(fn func() error) error {
	if err := childSupport(); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("becoming a subreaper for the experiment: %w", err)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return fn()
}

// ErrNoLab means no lab could be made: no privilege for namespaces and no
// unprivileged user namespaces.
var ErrNoLab = errors.New("cannot create the lab's namespaces")

// ErrNoCgo is what Run, RunUnshare and RunMatrix return in a build
// without cgo: the experiment's parent and child are nsi_child.c.
var ErrNoCgo = errors.New("this nsinspect was built without cgo (CGO_ENABLED=0), and clone experiments need the C child in clone/nsi_child.c: rebuild with CGO_ENABLED=1")

// runLab starts a lab for req and decodes its JSON answer into out.
func runLab(req Request, out any) error {
	if err := childSupport(); err != nil {
		return err // before a lab is made only to fail in it
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding nsinspect's executable to start the lab: %w", err)
	}
	cmd := exec.Command(exe)
	cmd.Args = []string{LabArg0}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("starting the lab: %w", err)
	}
	flags := uintptr(labNamespaces)
	attr := &syscall.SysProcAttr{Cloneflags: flags, Pdeathsig: syscall.SIGKILL}
	if os.Geteuid() != 0 {
		req.UserNS = true // the only way an unprivileged user gets a lab
	}
	if req.UserNS {
		attr.Cloneflags |= unix.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
		attr.GidMappingsEnableSetgroups = false
	}
	cmd.SysProcAttr = attr
	if req.Flags.Has(unix.CLONE_INTO_CGROUP) && req.Cgroup != "" {
		dir, err := os.Open(req.Cgroup)
		if err != nil {
			return fmt.Errorf("opening cgroup %s for CLONE_INTO_CGROUP: %w", req.Cgroup, err)
		}
		defer dir.Close()
		cmd.ExtraFiles = []*os.File{dir}
		req.CgroupFD = 3 // the first of ExtraFiles
	}
	in, _ := json.Marshal(req)
	cmd.Stdin = bytes.NewReader(in)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%w: %v (run as root, or enable unprivileged user namespaces: sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone)", ErrNoLab, err)
	}
	// The lab prints its report before it tears the experiment down; take
	// the report as soon as it is complete and reap the lab in the
	// background, so that its namespaces' teardown overlaps our printing.
	// Reap waits for it before nsinspect exits. (If nsinspect is killed
	// first, PDEATHSIG kills the lab, and init reaps it.)
	if derr := json.NewDecoder(stdout).Decode(out); derr == nil {
		tearingDown.Go(func() { cmd.Wait() })
		return nil
	} else if err := cmd.Wait(); err != nil {
		if msg := strings.TrimSpace(errb.String()); msg != "" {
			return fmt.Errorf("the lab failed: %s", lastLine(msg))
		}
		return fmt.Errorf("the lab failed: %v", err)
	} else {
		return fmt.Errorf("reading the lab's report: %v", derr)
	}
}

// tearingDown counts the labs whose report was taken while they were
// still tearing their experiment down.
var tearingDown sync.WaitGroup

// Reap waits for every lab still tearing its experiment down. Call it
// before the process exits: a lab left behind becomes a zombie for init to
// collect, and a container's PID 1 may never do so.
func Reap() { tearingDown.Wait() }

func lastLine(s string) string {
	lines := strings.Split(s, "\n")
	return lines[len(lines)-1]
}

// LabMain is the lab process: it makes its namespaces private, mounts its
// own /proc and /tmp, runs the experiment and prints the report as JSON.
// It returns the process exit code.
func LabMain() int {
	var req Request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintf(os.Stderr, "lab: reading the request: %v\n", err)
		return 2
	}
	runtime.LockOSThread() // the time namespace below is this thread's
	if err := setupLab(); err != nil {
		fmt.Fprintf(os.Stderr, "lab: %v\n", err)
		return 1
	}
	mode := "lab"
	if req.UserNS {
		mode = "lab-userns"
	}
	var rep any
	var err error
	stop := func() {}
	switch req.Op {
	case opNameUnshare:
		rep, err = unshareReport(req, mode)
	case opNameMatrix:
		rep, err = matrixReports(req, mode)
	default:
		// The report goes out before the pair is torn down: the lab ends
		// it just after, and everything dies with the lab anyway.
		rep, stop, err = runExperiment(req, mode)
	}
	defer stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "lab: %v\n", err)
		return 1
	}
	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
		fmt.Fprintf(os.Stderr, "lab: writing the report: %v\n", err)
		return 1
	}
	return 0
}

func setupLab() error {
	// Nothing mounted here may propagate to the host's mount namespace.
	steps := []struct {
		what string
		do   func() error
	}{
		{"making / private", func() error { return unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, "") }},
		{"mounting the lab's /proc", func() error {
			return unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
		}},
		{"mounting the lab's /tmp", func() error { return unix.Mount("nsinspect-lab", "/tmp", "tmpfs", 0, "size=1m,mode=1777") }},
		{"creating " + probeDir, func() error { return os.Mkdir(probeDir, 0o755) }},
		{"moving to /", func() error { return unix.Chdir("/") }},
		{"naming the lab", func() error { return unix.Sethostname([]byte("nsinspect-lab")) }},
		{"creating the lab's time namespace", func() error { return unix.Unshare(unix.CLONE_NEWTIME) }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			return fmt.Errorf("%s: %w", s.what, err)
		}
	}
	return nil
}

// OwnCgroupDir is the cgroup v2 directory nsinspect runs in, as seen from
// its mount namespace (the lab's mount namespace is a copy of it).
func OwnCgroupDir() (string, error) {
	mnt, path, err := CgroupV2()
	return filepath.Join(mnt, path), err
}

// CgroupV2 returns where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup,
// or /sys/fs/cgroup/unified on a hybrid host) and nsinspect's cgroup path
// in it (the "0::" line of /proc/self/cgroup).
func CgroupV2() (mountPoint, path string, err error) {
	self, err := procinfo.Self()
	if err != nil {
		return "", "", err
	}
	defer self.Close()
	cgs, err := self.Cgroups()
	if err != nil {
		return "", "", fmt.Errorf("finding nsinspect's cgroup for CLONE_INTO_CGROUP: %w", err)
	}
	mounts, err := self.MountInfo()
	if err != nil {
		return "", "", fmt.Errorf("finding the cgroup2 mount for CLONE_INTO_CGROUP: %w", err)
	}
	for _, cg := range cgs {
		if cg.HierarchyID != 0 {
			continue
		}
		for _, m := range mounts {
			if m.FSType == "cgroup2" && m.Root == "/" {
				return m.MountPoint, cg.Path, nil
			}
		}
	}
	return "", "", errors.New("finding nsinspect's cgroup for CLONE_INTO_CGROUP: no cgroup2 hierarchy mounted; pass --cgroup DIR")
}
