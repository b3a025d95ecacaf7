package posture

import (
	"errors"
	"fmt"
	"os"
	"sort"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/procinfo"
)

// Bounds of the walk of the target's /dev: a hostile /dev (a deep tree,
// millions of entries) must not make the audit hang.
const (
	devMaxDepth   = 4
	devMaxEntries = 4096
)

// readDevices lists the device nodes under the target's /dev. /dev is
// looked up in the target's root (the /proc/PID/root magic link) with
// openat2 RESOLVE_IN_ROOT, so a symlink there resolves inside the
// target's root as it would for the target; below it, every step is one
// name opened with O_NOFOLLOW relative to its directory, and every node is
// lstat'ed, so no symlink is ever followed.
func readDevices(p *procinfo.Proc, dir string) (Devices, error) {
	d := Devices{Nodes: []Device{}, Evidence: []Evidence{}}
	root, err := p.Openat("root", unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return d, err
	}
	defer unix.Close(root)
	call := "openat2 " + dir + "/root, \"dev\", RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS"
	fd, err := unix.Openat2(root, "dev", &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		d.Evidence = append(d.Evidence, Evidence{Call: call + ": " + err.Error()})
		if errors.Is(err, unix.ENOENT) {
			return d, nil // no /dev at all: no device nodes
		}
		return d, fmt.Errorf("%s: %w", call, err)
	}
	d.Evidence = append(d.Evidence, Evidence{File: dir + "/root/dev", Call: call})
	w := walker{}
	w.walk(fd, "/dev", 1)
	d.Nodes = w.nodes
	sort.Slice(d.Nodes, func(i, j int) bool { return d.Nodes[i].Path < d.Nodes[j].Path })
	switch {
	case w.err != nil:
		d.Err = w.err.Error()
	case w.truncated != "":
		d.Err = w.truncated
	}
	return d, nil
}

type walker struct {
	nodes     []Device
	entries   int
	truncated string
	err       error
}

// walk lists directory fd (which it closes), named name in the target.
func (w *walker) walk(fd int, name string, depth int) {
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil && w.err == nil {
		w.err = fmt.Errorf("listing %s in the target: %w", name, err)
	}
	sort.Strings(names)
	for _, n := range names {
		if w.entries++; w.entries > devMaxEntries {
			w.truncated = fmt.Sprintf("stopped after %d entries under /dev: the list is incomplete", devMaxEntries)
			return
		}
		var st unix.Stat_t
		if err := unix.Fstatat(fd, n, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			if !errors.Is(err, unix.ENOENT) && w.err == nil {
				w.err = fmt.Errorf("lstat %s in the target: %w", name+"/"+n, err)
			}
			continue // ENOENT: removed meanwhile
		}
		path := name + "/" + n
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFCHR, unix.S_IFBLK:
			typ := "c"
			if st.Mode&unix.S_IFMT == unix.S_IFBLK {
				typ = "b"
			}
			w.nodes = append(w.nodes, Device{Path: path, Type: typ, Major: unix.Major(st.Rdev), Minor: unix.Minor(st.Rdev)})
		case unix.S_IFDIR:
			if depth >= devMaxDepth {
				if w.truncated == "" {
					w.truncated = fmt.Sprintf("did not descend into %s: deeper than %d levels under /dev", path, devMaxDepth)
				}
				continue
			}
			sub, err := unix.Openat(fd, n, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err != nil {
				if !errors.Is(err, unix.ENOENT) && w.err == nil {
					w.err = fmt.Errorf("opening %s in the target: %w", path, err)
				}
				continue
			}
			w.walk(sub, path, depth+1)
			if w.truncated != "" && w.entries > devMaxEntries {
				return
			}
		}
	}
}
