package clone

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/clone/flags"
	"github.com/nsinspect/nsinspect/internal/nsichild"
	"github.com/nsinspect/nsinspect/namespaces"
)

// LabArg0 is the argv[0] under which nsinspect re-executes itself as a Go
// lab, for a lab in a new user namespace (the moby/sys/reexec pattern):
// main calls LabMain when it sees it.
const LabArg0 = "nsinspect-lab"

// labNamespaces are the namespaces a lab is made in. Its time namespace is
// made later, by unshare(CLONE_NEWTIME) in the zygote's lab setup (or on
// the Go lab's thread that starts its zygote), because os/exec's clone(2)
// cannot pass CLONE_NEWTIME: the experiment's parents are born in it. Its
// cgroup namespace is left out for CLONE_INTO_CGROUP (see labFlags).
const labNamespaces = unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET |
	unix.CLONE_NEWPID | unix.CLONE_NEWCGROUP

// probeDir is where the mount probe mounts, inside the lab's own /tmp.
const probeDir = "/tmp/nsinspect-probe"

// What the lab does.
const (
	opClone   = "clone"
	opUnshare = "unshare"
	opMatrix  = "matrix"
)

// labRequest is what nsinspect writes to the lab's stdin: the wire form of
// a Request, with what the lab is to do. Only this package writes and
// reads it, and only between two copies of one binary.
type labRequest struct {
	Op       string    `json:"op"`
	Flags    flags.Set `json:"flags"`
	Clone3   bool      `json:"clone3"`
	Probes   bool      `json:"probes"`
	Identity bool      `json:"identity"`
	Exec     bool      `json:"exec"`
	UserNS   bool      `json:"userns"`
	Cgroup   string    `json:"cgroup,omitempty"`
	// CgroupFD is the lab's fd on Cgroup, opened by nsinspect before the
	// lab mounted its own /tmp and /proc, so that any path nsinspect can
	// open works (a cgroup2 mount under /tmp included).
	CgroupFD int         `json:"cgroup_fd,omitempty"`
	Thread   bool        `json:"thread"`
	Matrix   []flags.Set `json:"matrix,omitempty"` // opMatrix: one experiment each
}

func wire(op string, r Request, matrix []flags.Set) labRequest {
	return labRequest{Op: op, Flags: r.Flags, Clone3: r.Clone3, Probes: r.Probes, Identity: r.Identity, Exec: r.Exec,
		UserNS: r.UserNS, Cgroup: r.Cgroup, Thread: r.Thread, Matrix: matrix}
}

func (w labRequest) request() Request {
	return Request{Flags: w.Flags, Clone3: w.Clone3, Probes: w.Probes, Identity: w.Identity, Exec: w.Exec,
		UserNS: w.UserNS, Cgroup: w.Cgroup, Thread: w.Thread, cgroupFD: w.CgroupFD}
}

// intoCgroup reports whether an experiment of w uses CLONE_INTO_CGROUP.
func (w labRequest) intoCgroup() bool {
	all := w.Flags
	for _, s := range w.Matrix {
		all |= s
	}
	return all.Has(unix.CLONE_INTO_CGROUP)
}

// labFlags are the clone flags the lab is made with. With
// CLONE_INTO_CGROUP the lab stays in nsinspect's cgroup namespace: where
// the cgroup2 hierarchy is mounted with nsdelegate (systemd's default),
// clone3 places a child only in a cgroup inside its caller's cgroup
// namespace (ENOENT otherwise), and a lab's own namespace, rooted at
// nsinspect's cgroup, would rule out every --cgroup DIR outside it
// (docs/kernel-notes.md). The report then shows the child's cgroup as
// nsinspect sees it.
func labFlags(w labRequest) uintptr {
	f := uintptr(labNamespaces)
	if w.intoCgroup() {
		f &^= unix.CLONE_NEWCGROUP
	}
	if w.UserNS {
		f |= unix.CLONE_NEWUSER
	}
	return f
}

// labTypes names the namespace types of the lab w makes, in lsns
// order: labFlags and the time namespace its zygote makes. The others it
// keeps from nsinspect.
func labTypes(w labRequest) []string {
	made := uint64(labFlags(w)) | unix.CLONE_NEWTIME
	var out []string
	for _, t := range namespaces.Types {
		if made&uint64(t) != 0 {
			out = append(out, t.Name())
		}
	}
	return out
}

// IsLab reports whether this process was started as a lab.
func IsLab() bool { return filepath.Base(os.Args[0]) == LabArg0 }

// runLab starts a Go lab for w (one in a new user namespace: see
// Request.direct) and decodes its JSON answer into out. The lab
// prints its report before it tears the experiment down; runLab returns as
// soon as the report is complete, so that the teardown overlaps the
// printing, and Reap waits for the lab. On an error the lab is reaped
// already.
func runLab(w labRequest, out any) error {
	if err := nsichild.Supported(); err != nil {
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
	if os.Geteuid() != 0 {
		w.UserNS = true // the only way an unprivileged user gets a lab
	}
	// PDEATHSIG: the lab dies with us even if we are SIGKILLed.
	attr := &syscall.SysProcAttr{Cloneflags: labFlags(w), Pdeathsig: syscall.SIGKILL}
	if w.UserNS {
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
		attr.GidMappingsEnableSetgroups = false
	}
	cmd.SysProcAttr = attr
	if w.intoCgroup() && w.Cgroup != "" {
		dir, err := os.Open(w.Cgroup)
		if err != nil {
			return fmt.Errorf("opening cgroup %s for CLONE_INTO_CGROUP: %w", w.Cgroup, err)
		}
		defer dir.Close()
		cmd.ExtraFiles = []*os.File{dir}
		w.CgroupFD = 3 // the first of ExtraFiles
	}
	in, _ := json.Marshal(w)
	cmd.Stdin = bytes.NewReader(in)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%w: %v (run as root, or enable unprivileged user namespaces: sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone)", ErrNoLab, err)
	}
	derr := json.NewDecoder(stdout).Decode(out)
	if derr == nil {
		tearingDown.Go(func() { cmd.Wait() })
		return nil
	}
	if err := cmd.Wait(); err != nil {
		if msg := strings.TrimSpace(errb.String()); msg != "" {
			return fmt.Errorf("the lab failed: %s", lastLine(msg))
		}
		return fmt.Errorf("the lab failed: %v", err)
	}
	return fmt.Errorf("reading the lab's report: %v", derr)
}

// tearingDown counts the labs whose report was taken while they were
// still tearing their experiment down.
var tearingDown sync.WaitGroup

// Reap waits for every lab still tearing its experiment down. Call it
// before the process exits: a lab left behind becomes a zombie for init to
// collect, and a container's PID 1 may never do so. (If nsinspect is
// killed first, PDEATHSIG kills the lab, and init reaps it.)
func Reap() { tearingDown.Wait() }

func lastLine(s string) string {
	lines := strings.Split(s, "\n")
	return lines[len(lines)-1]
}

// LabMain is the lab process: it makes its namespaces private, mounts its
// own /proc and /tmp, runs the experiment and prints the report as JSON.
// It returns the process exit code.
func LabMain() int {
	var w labRequest
	if err := json.NewDecoder(os.Stdin).Decode(&w); err != nil {
		fmt.Fprintf(os.Stderr, "lab: reading the request: %v\n", err)
		return 2
	}
	if err := setupLab(); err != nil {
		fmt.Fprintf(os.Stderr, "lab: %v\n", err)
		return 1
	}
	mode := "lab"
	if w.UserNS {
		mode = "lab-userns"
	}
	// The zygote's PDEATHSIG watches the thread that started it.
	runtime.LockOSThread()
	// The zygote makes the lab's time namespace, which every parent it
	// forks is born in, as a root lab's zygote does: made here, Linux 6.1
	// would refuse the CLONE_VM fork that starts the zygote (EINVAL).
	z, err := nsichild.StartZygote(nsichild.ZygoteTimens, &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL})
	if err != nil {
		fmt.Fprintf(os.Stderr, "lab: starting the experiment's zygote: %v\n", err)
		return 1
	}
	defer z.Close()
	req := w.request()
	req.lab = labTypes(w)
	var rep any
	stop := func() {}
	switch w.Op {
	case opUnshare:
		rep, err = unshareReport(req, mode, z)
	case opMatrix:
		rep, err = matrixReports(req, w.Matrix, mode, z)
	default:
		// The report goes out before the pair is torn down: the lab ends
		// it just after, and nsinspect reaps the lab once it has printed.
		rep, stop, err = runExperiment(req, mode, z)
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
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			return fmt.Errorf("%s: %w", s.what, err)
		}
	}
	return nil
}
