package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Timeout bounds one ask of an engine, a socket round trip or a podman
// CLI run (which starts in about 0.15 s here): an engine that hangs must
// not hang nsinspect.
const Timeout = 2 * time.Second

// Declared is what the engine says it configured, from docker and podman
// inspect's HostConfig (or runc's state): the claim an audit compares with
// the namespaces the kernel shows. A mode is the engine's word for it:
// "host", "private", "container:ID", "ns:PATH", "" for the engine's
// default.
type Declared struct {
	NetworkMode    string   `json:"network_mode"`
	PidMode        string   `json:"pid_mode"`
	IpcMode        string   `json:"ipc_mode"`
	UTSMode        string   `json:"uts_mode"`
	UsernsMode     string   `json:"userns_mode"`
	CgroupnsMode   string   `json:"cgroupns_mode"`
	Privileged     bool     `json:"privileged"`
	ReadonlyRootfs bool     `json:"readonly_rootfs"`
	CapAdd         []string `json:"cap_add,omitempty"` // as CAP_NAME
	CapDrop        []string `json:"cap_drop,omitempty"`
	SecurityOpt    []string `json:"security_opt,omitempty"`
	Binds          []string `json:"binds,omitempty"`   // SRC:DST[:OPTS]
	Devices        []string `json:"devices,omitempty"` // HOST:CONTAINER:PERMS
}

// The kinds of failed lookup, for errors.Is: the caller prints the
// error's one line and exits 2.
var (
	ErrNotFound   = errors.New("no such container")
	ErrNoEngine   = errors.New("no engine to ask")
	ErrNotRunning = errors.New("container is not running")
	ErrEngine     = errors.New("unknown engine")
)

// Error is a failed lookup: of which container, whom was asked, and why.
type Error struct {
	Engine string // docker, podman, runc or containerd
	Name   string // as given to Lookup
	Asked  string // whom: "the Docker engine at /var/run/docker.sock"
	Err    error  // wraps one of the sentinels above, or the cause
}

func (e *Error) Error() string {
	switch {
	case errors.Is(e.Err, ErrNotFound):
		return fmt.Sprintf("no %s container named %q (asked %s)", e.Engine, e.Name, e.Asked)
	case errors.Is(e.Err, ErrNoEngine):
		// The cause already says what is absent and what to do.
		return fmt.Sprintf("%v, so %s container %q cannot be looked up", e.Err, e.Engine, e.Name)
	}
	return fmt.Sprintf("%s container %q: %v (asked %s)", e.Engine, e.Name, e.Err, e.Asked)
}

func (e *Error) Unwrap() error { return e.Err }

// reason is a cause in words that still matches its sentinel.
type reason struct {
	kind error
	msg  string
}

func (r *reason) Error() string { return r.msg }
func (r *reason) Unwrap() error { return r.kind }

func because(kind error, format string, args ...any) error {
	return &reason{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// Engines are the engine names Lookup takes.
var Engines = []string{"docker", "podman", "runc", "containerd"}

// Known reports whether engine is one Lookup takes.
func Known(engine string) bool { return slices.Contains(Engines, engine) }

// TargetForms are the ENGINE:NAME forms Lookup resolves, for usage text.
func TargetForms() []string {
	return []string{"docker:NAME", "podman:NAME", "podman:USER/NAME", "runc:ID", "runc:USER/ID", "containerd:[NAMESPACE/]ID"}
}

// Lookup asks an engine for a running container by name or id:
//
//	docker  NAME       the Docker engine's socket
//	podman  NAME       root's podman (or, run as a user, that user's)
//	podman  USER/NAME  USER's rootless podman; nsinspect must run as root or as USER
//	runc    ID         root's runc state (/run/runc); USER/ID for USER's
//	containerd [NS/]ID containerd's socket (Socket): a container id, or a
//	                   CRI container name, in namespace NS (default: k8s.io,
//	                   then every other namespace but Docker's moby)
//
// The errors wrap ErrNotFound, ErrNoEngine or ErrNotRunning in an *Error
// whose text names whom was asked. The ask is bounded by Timeout.
func Lookup(ctx context.Context, engine, name string) (*Container, error) {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	var (
		c     *Container
		asked string
		err   error
	)
	switch engine {
	case "docker":
		c, asked, err = lookupDocker(ctx, name)
	case "podman":
		c, asked, err = lookupPodman(ctx, name)
	case "runc":
		c, asked, err = lookupRunc(name)
	case "containerd":
		c, asked, err = lookupContainerd(ctx, name)
	default:
		return nil, &Error{Engine: engine, Name: name, Asked: "nobody",
			Err: fmt.Errorf("%w %q (known: %s)", ErrEngine, engine, strings.Join(Engines, ", "))}
	}
	if err != nil {
		return nil, &Error{Engine: engine, Name: name, Asked: asked, Err: err}
	}
	if c.PID <= 0 {
		return nil, &Error{Engine: engine, Name: name, Asked: asked,
			Err: because(ErrNotRunning, "it is not running (status %q, no PID): start it, or name a running one", c.Status)}
	}
	return c, nil
}
