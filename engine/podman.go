package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// rootfulPodmanSocket is where `podman system service` listens for root
// (a variable for the tests).
var rootfulPodmanSocket = "/run/podman/podman.sock"

// podmanOwner is whose podman is asked: root's, nsinspect's own user's,
// or (as root) another user's rootless one.
type podmanOwner struct {
	user       string // a name for messages: "root", or the rootless user
	uid, gid   int
	home       string
	runtimeDir string // podman's XDG_RUNTIME_DIR: its socket and run state live there
	rootless   bool
	other      bool // not nsinspect's own user: the CLI runs with its uid
}

// ownerOf resolves "USER" in podman:USER/NAME; "" is nsinspect's own
// user, which is root's rootful podman when nsinspect runs as root.
func ownerOf(name string) (podmanOwner, error) {
	euid := os.Geteuid()
	if name == "" {
		o := podmanOwner{user: "root", uid: euid, gid: os.Getegid(), home: os.Getenv("HOME")}
		if euid != 0 {
			o.user, o.rootless = strconv.Itoa(euid), true
			if u, err := user.LookupId(o.user); err == nil {
				o.user = u.Username
			}
			o.runtimeDir = os.Getenv("XDG_RUNTIME_DIR")
			if o.runtimeDir == "" {
				o.runtimeDir = "/run/user/" + strconv.Itoa(euid)
			}
		}
		return o, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return podmanOwner{}, because(ErrNoEngine, "no user %q, whose rootless engine was to be asked (%v)", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if uid == 0 {
		return ownerOf("")
	}
	if euid != 0 && euid != uid {
		return podmanOwner{}, because(ErrNoEngine, "%s's rootless podman can be asked only as root or as %s", name, name)
	}
	return podmanOwner{user: name, uid: uid, gid: gid, home: u.HomeDir,
		runtimeDir: "/run/user/" + u.Uid, rootless: true, other: euid != uid}, nil
}

func (o podmanOwner) socket() string {
	if !o.rootless {
		return rootfulPodmanSocket
	}
	return o.runtimeDir + "/podman/podman.sock"
}

// lookupPodman takes NAME or USER/NAME: podman names cannot hold a "/".
func lookupPodman(ctx context.Context, name string) (*Container, string, error) {
	who, ref, ok := strings.Cut(name, "/")
	if !ok {
		who, ref = "", name
	}
	o, err := ownerOf(who)
	if err != nil {
		return nil, "nobody", err
	}
	return askPodman(ctx, o, ref)
}

// askPodman inspects ref through podman's API socket when it listens,
// else with the podman CLI.
func askPodman(ctx context.Context, o podmanOwner, ref string) (*Container, string, error) {
	var (
		c     *Container
		asked string
		err   error
	)
	sock := o.socket()
	if _, serr := os.Stat(sock); serr == nil {
		asked = "podman's API socket at " + sock
		c, err = inspectOverSocket(ctx, sock, ref)
	} else {
		path, lerr := exec.LookPath("podman")
		if lerr != nil {
			return nil, "podman", because(ErrNoEngine,
				"neither podman's API socket %s nor the podman command is there: install podman, or start `podman system service`", sock)
		}
		asked = fmt.Sprintf("`podman inspect` as %s (no API socket at %s)", o.user, sock)
		c, err = inspectCLI(ctx, path, o, ref)
	}
	if err != nil {
		return nil, asked, err
	}
	c.Engine, c.Rootless = "podman", o.rootless
	if o.rootless {
		c.User = o.user
	}
	return c, asked, nil
}

// inspectCLI runs `podman inspect --type container --format json REF`,
// with the owner's uid, home and runtime directory when it is another
// user: rootless podman finds its store from them.
func inspectCLI(ctx context.Context, path string, o podmanOwner, ref string) (*Container, error) {
	cmd := exec.CommandContext(ctx, path, "inspect", "--type", "container", "--format", "json", ref)
	if o.other {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(o.uid), Gid: uint32(o.gid)}}
		cmd.Env = []string{"HOME=" + o.home, "USER=" + o.user, "LOGNAME=" + o.user,
			"XDG_RUNTIME_DIR=" + o.runtimeDir, "PATH=" + os.Getenv("PATH")}
		cmd.Dir = o.home
	}
	// A podman that is killed at the deadline may leave children holding
	// its stdout: Wait gives up on them soon after.
	cmd.WaitDelay = 100 * time.Millisecond
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("podman inspect did not answer within %v: %w", Timeout, ctx.Err())
	}
	msg := strings.TrimSpace(stderr.String())
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && strings.Contains(msg, "no such") {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("podman inspect: %v: %s", err, lastLine(msg))
	}
	var list []inspect
	if err := json.Unmarshal(out.Bytes(), &list); err != nil {
		return nil, fmt.Errorf("reading podman inspect's answer: %w", err)
	}
	if len(list) == 0 {
		return nil, ErrNotFound
	}
	return list[0].container(), nil
}

func lastLine(s string) string {
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
