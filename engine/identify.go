package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nsinspect/nsinspect/procinfo"
)

// conmonDepth bounds the walk up from a task to its container's conmon: a
// container's process tree is rarely deeper, and a host process's chain
// ends at pid 1 long before.
const conmonDepth = 32

// Recognize finds the container the pinned task runs in (Match) and asks
// its engine for its name, image and labels (Identify), all within
// timeout. It returns nil for a host process. err is Identify's: non-nil
// when the container was recognised but its engine could not say who it
// is, and then c.Note says the same in words.
func Recognize(ctx context.Context, p *procinfo.Proc, timeout time.Duration) (c *Container, err error) {
	cgs, err := p.Cgroups()
	if err != nil {
		return nil, nil
	}
	if c = Match(p.PID, cgs); c == nil {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return c, Identify(ctx, c)
}

// Match finds the container task pid runs in, from what the host
// shows: its cgroup lines (FromCgroups), else a podman conmon among its
// ancestors (on cgroup v1 a rootless container has no cgroup of its
// own), else runc's state directories (a plain runc container's default
// cgroup is /ID, which names no engine), else containerd's task list
// (a container made with ctr or nerdctl under containerd's cgroupfs
// layout, /NAMESPACE/ID, or one whose cgroup namespace hides its path).
// It returns nil for a host process. Recognition is best-effort: a
// process that exits midway is simply not recognised.
func Match(pid int, cgs []procinfo.Cgroup) *Container {
	if c := FromCgroups(cgs); c != nil {
		return c
	}
	p, err := procinfo.Open(pid)
	if err != nil {
		return nil
	}
	st, err := p.Stat()
	p.Close()
	if err != nil {
		return nil
	}
	if c := conmonContainer(st.PPID); c != nil {
		return c
	}
	if rs, root := runcContainerOf(pid, st.StartTime, cgs); rs != nil {
		c := &Container{Engine: "runc", ID: rs.ID, Name: rs.ID, Rootless: rs.Rootless, Via: "runc-state"}
		if bundle := runcBundle(rs); bundleEngine(bundle, rs.ID) == "podman" {
			c.Engine, c.Name = "podman", ""
		}
		if root != runcRoot {
			c.User = ownerName(root)
		}
		return c
	}
	return containerdTaskOf(pid)
}

// conmonContainer walks up from pid to a podman conmon. conmon's command
// line names the container (-c ID, -n NAME) and its --exit-command is
// podman; conmon runs as the container's owner, so a non-root conmon is
// a rootless container's.
func conmonContainer(pid int) *Container {
	for i := 0; i < conmonDepth && pid > 1; i++ {
		p, err := procinfo.Open(pid)
		if err != nil {
			return nil
		}
		st, err := p.Stat()
		var cmdline []byte
		var status procinfo.Status
		if err == nil && st.Comm == "conmon" {
			cmdline, err = p.ReadFile("cmdline")
			if err == nil {
				status, err = p.Status()
			}
		}
		p.Close()
		if err != nil {
			return nil
		}
		if cmdline != nil {
			c := parseConmon(cmdline)
			if c != nil && status.Uid[0] != 0 {
				c.Rootless, c.User = true, userName(int(status.Uid[0]))
			}
			return c
		}
		pid = st.PPID
	}
	return nil
}

// parseConmon reads conmon's NUL-separated command line: a podman
// container's when --exit-command is podman (CRI-O's conmon has none).
func parseConmon(cmdline []byte) *Container {
	args := bytes.Split(bytes.TrimRight(cmdline, "\x00"), []byte{0})
	var id, name, exit string
	for i := 0; i+1 < len(args); i++ {
		switch v := string(args[i+1]); string(args[i]) {
		case "-c", "--cid":
			id = v
		case "-n", "--name":
			name = v
		case "--exit-command":
			exit = filepath.Base(v)
		}
	}
	if id == "" || exit != "podman" {
		return nil
	}
	return &Container{Engine: "podman", ID: id, Name: name, Via: "conmon"}
}

func runcBundle(st *runcState) string {
	for _, l := range st.Config.Labels {
		if b, ok := strings.CutPrefix(l, "bundle="); ok {
			return b
		}
	}
	return ""
}

// ownerName is the user a rootless runc root /run/user/UID/runc belongs to.
func ownerName(root string) string {
	uid, err := strconv.Atoi(filepath.Base(filepath.Dir(root)))
	if err != nil {
		return ""
	}
	return userName(uid)
}

// Identify asks c's engine for the name, image and labels of a container
// Match found, within Timeout. When the engine cannot be asked, c
// keeps what recognition found (the id; podman's name from conmon),
// c.Note says whom nsinspect tried and why it could not ask, and the
// error says the same for errors.Is: the identity is then unknown, not
// empty (a socket that refused us matches EACCES, an engine too slow
// context.DeadlineExceeded, one that is absent ErrNoEngine).
func Identify(ctx context.Context, c *Container) error {
	if c == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	var (
		got   *Container
		asked string
		err   error
	)
	switch c.Engine {
	case "docker":
		got, asked, err = lookupDocker(ctx, c.ID)
	case "podman":
		var o podmanOwner
		if o, err = ownerOf(c.User); err == nil {
			got, asked, err = askPodman(ctx, o, c.ID)
		}
	case "runc":
		ref := c.ID
		if c.User != "" {
			ref = c.User + "/" + c.ID
		}
		got, asked, err = lookupRunc(ref)
	case "containerd":
		got, asked, err = identifyContainerd(ctx, c.Namespace, c.ID)
	case "kubernetes":
		// kubelet's cgroupfs layout does not name the runtime: containerd
		// is asked, and a container it does not know stays kubelet's.
		// A containerd that refused us or did not answer is said below
		// as it is (a privilege, a timeout).
		got, asked, err = identifyContainerd(ctx, "", c.ID)
		if err == nil {
			c.Engine = "containerd"
			break
		}
		if errors.Is(err, ErrNoEngine) || errors.Is(err, ErrNotFound) {
			err = because(ErrNoEngine, "its cgroup names no runtime, and %s: %v", asked, err)
			c.Note = fmt.Sprintf("recognised from its cgroup path only: %v", err)
			return &Error{Engine: c.Engine, Name: c.ID, Asked: asked, Err: err}
		}
	default:
		// CRI-O: the cgroup's id is all nsinspect knows, so the name,
		// image and labels are unknown.
		err = because(ErrNoEngine, "nsinspect does not ask %s for names, images and labels", c.Engine)
		c.Note = fmt.Sprintf("recognised from its cgroup path only: %v", err)
		return &Error{Engine: c.Engine, Name: c.ID, Asked: "nobody", Err: err}
	}
	if err != nil {
		c.Note = noteFor(c, asked, err)
		if errors.Is(err, ErrNotFound) {
			return nil // the engine answered: it has no name for it
		}
		return &Error{Engine: c.Engine, Name: c.ID, Asked: asked, Err: err}
	}
	c.Name, c.Image, c.Labels, c.Pod, c.Declared = got.Name, got.Image, got.Labels, got.Pod, got.Declared
	if got.Namespace != "" {
		c.Namespace = got.Namespace
	}
	if got.Rootless {
		c.Rootless = true
	}
	return nil
}

func noteFor(c *Container, asked string, err error) string {
	via := "its cgroup path"
	switch c.Via {
	case "conmon":
		via = "podman's conmon"
	case "runc-state":
		via = "runc's state"
	case "containerd-tasks":
		via = "containerd's task list"
	}
	if errors.Is(err, ErrNoEngine) {
		return fmt.Sprintf("recognised from %s only: %v", via, err)
	}
	if errors.Is(err, ErrNotFound) {
		return fmt.Sprintf("recognised from %s, but %s does not know it", via, asked)
	}
	return fmt.Sprintf("recognised from %s only: asking %s: %v", via, asked, err)
}

// userName is uid's login name, or the number when /etc/passwd has none.
func userName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return u.Username
	}
	return strconv.Itoa(uid)
}
