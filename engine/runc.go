package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/nsinspect/nsinspect/procinfo"
)

// runcRoot is runc's state directory for root (runc(8) --root), and
// runcUserRoots matches rootless runc's ($XDG_RUNTIME_DIR/runc); variables
// for the tests.
var (
	runcRoot      = "/run/runc"
	runcUserRoots = "/run/user/*/runc"
)

// runcState is the part of runc's state.json (libcontainer's State) that
// nsinspect reads. init_process_start is the init's start time in clock
// ticks, field 22 of /proc/PID/stat: with the pid it names the process
// across pid reuse.
type runcState struct {
	ID        string            `json:"id"`
	InitPID   int               `json:"init_process_pid"`
	InitStart uint64            `json:"init_process_start"`
	Rootless  bool              `json:"rootless"`
	Cgroups   map[string]string `json:"cgroup_paths"` // subsystem ("" for v2) -> directory
	Config    struct {
		Readonly   bool            `json:"readonlyfs"`
		Labels     []string        `json:"labels"`     // "bundle=/path", and the spec's annotations
		Namespaces []specNamespace `json:"namespaces"` // types: runcTypes, and NEWNS
		Mounts     []struct {
			Source      string `json:"source"`
			Destination string `json:"destination"`
			Device      string `json:"device"`
			Flags       int    `json:"flags"`
		} `json:"mounts"`
	} `json:"config"`
}

// runcRoots are the state directories of root's runc and of users' (a
// rootless runc's is $XDG_RUNTIME_DIR/runc, which is where rootless
// podman's runc keeps its containers too).
func runcRoots() []string {
	roots := []string{runcRoot}
	users, _ := filepath.Glob(runcUserRoots)
	return append(roots, users...)
}

// lookupRunc takes ID, or USER/ID for USER's rootless runc.
func lookupRunc(name string) (*Container, string, error) {
	root, id := runcRoot, name
	if who, rest, ok := strings.Cut(name, "/"); ok {
		o, err := ownerOf(who)
		if err != nil {
			return nil, "nobody", err
		}
		root, id = o.runtimeDir+"/runc", rest
		if !o.rootless {
			root = runcRoot
		}
	}
	asked := "runc's state directory " + root
	if id == "" || id == "." || id == ".." || strings.Contains(id, "/") {
		return nil, asked, ErrNotFound
	}
	if _, err := os.Stat(root); err != nil {
		return nil, asked, because(ErrNoEngine, "runc's state directory %s is absent (%v): no runc container was run with that --root", root, unwrapPath(err))
	}
	st, err := readRuncState(filepath.Join(root, id, "state.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, asked, ErrNotFound
	}
	if err != nil {
		return nil, asked, err
	}
	c := st.container()
	if !st.alive() {
		c.Status, c.PID = "stopped", 0
	}
	return c, asked, nil
}

func readRuncState(path string) (*runcState, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var st runcState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("reading runc's %s: %w", path, err)
	}
	return &st, nil
}

// alive reports whether the state's init process still runs: the pid is
// there and started when runc recorded.
func (st *runcState) alive() bool {
	p, err := procinfo.Open(st.InitPID)
	if err != nil {
		return false
	}
	defer p.Close()
	s, err := p.Stat()
	return err == nil && s.StartTime == st.InitStart && s.State != 'Z'
}

// container is the state as Lookup reports it. runc has no names and no
// images: the name is the id, and the labels are runc's (bundle=PATH).
func (st *runcState) container() *Container {
	c := &Container{Engine: "runc", ID: st.ID, Name: st.ID, PID: st.InitPID, Status: "running", Rootless: st.Rootless}
	for _, l := range st.Config.Labels {
		k, v, _ := strings.Cut(l, "=")
		if c.Labels == nil {
			c.Labels = map[string]string{}
		}
		c.Labels[k] = v
	}
	d := &c.Declared
	d.ReadonlyRootfs = st.Config.Readonly
	d.setModes(runcTypes, st.Config.Namespaces)
	for _, m := range st.Config.Mounts {
		// MS_BIND is 0x1000 (mount.h); runc records a bind mount's device as "bind".
		if m.Device == "bind" || m.Flags&0x1000 != 0 {
			d.Binds = append(d.Binds, m.Source+":"+m.Destination)
		}
	}
	return c
}

// bundleEngine names the engine that made a runc container from its
// bundle path: podman's bundles are STORAGE/DRIVER-containers/ID/userdata.
func bundleEngine(bundle, id string) string {
	if strings.HasSuffix(bundle, "-containers/"+id+"/userdata") {
		return "podman"
	}
	return "runc"
}

// runcContainerOf finds the runc container a task runs in: the one whose
// init it is (pid and start time), or whose cgroup it is in (a process
// run with runc exec). A cgroup path of "/" proves nothing and is skipped.
func runcContainerOf(pid int, start uint64, cgs []procinfo.Cgroup) (*runcState, string) {
	for _, root := range runcRoots() {
		dirs, _ := os.ReadDir(root)
		for _, d := range dirs {
			if !d.IsDir() {
				continue
			}
			st, err := readRuncState(filepath.Join(root, d.Name(), "state.json"))
			if err != nil {
				continue
			}
			if (st.InitPID == pid && st.InitStart == start) || st.holds(cgs) {
				return st, root
			}
		}
	}
	return nil, ""
}

// holds reports whether a cgroup line is one of the container's cgroups:
// the directory runc made for that subsystem ("" for v2) is the line's
// path under a cgroup mount, /sys/fs/cgroup or /sys/fs/cgroup/NAME.
func (st *runcState) holds(cgs []procinfo.Cgroup) bool {
	for _, cg := range cgs {
		if cg.Path == "/" || cg.Path == "" {
			continue
		}
		keys := cg.Controllers
		if cg.HierarchyID == 0 {
			keys = []string{""}
		}
		for _, k := range keys {
			mnt, ok := strings.CutSuffix(st.Cgroups[k], cg.Path)
			if !ok {
				continue
			}
			if rest, ok := strings.CutPrefix(mnt, "/sys/fs/cgroup"); ok && !strings.Contains(strings.TrimPrefix(rest, "/"), "/") {
				return true
			}
		}
	}
	return false
}
