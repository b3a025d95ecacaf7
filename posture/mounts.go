package posture

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/nsinspect/nsinspect/procinfo"
)

// MountLine is one line of /proc/PID/mountinfo with its place in the file.
type MountLine struct {
	procinfo.Mount
	Line int    // 1-based
	Text string // the line as read
}

// ParseMountInfo parses the text of a mountinfo file (proc_pid_mountinfo(5))
// keeping each line's number and text, for evidence.
func ParseMountInfo(b []byte) ([]MountLine, error) {
	mounts, err := procinfo.ParseMountInfo(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(mounts) == 0 {
		return []MountLine{}, nil
	}
	if len(lines) != len(mounts) {
		return nil, fmt.Errorf("%w mountinfo: %d lines but %d mounts", ErrParse, len(lines), len(mounts))
	}
	out := make([]MountLine, len(mounts))
	for i, m := range mounts {
		out[i] = MountLine{Mount: m, Line: i + 1, Text: lines[i]}
	}
	return out, nil
}

func (m MountLine) evidence(file string) Evidence {
	return Evidence{File: file, Line: m.Line, Text: m.Text}
}

func hasOption(opts, o string) bool {
	for _, x := range strings.Split(opts, ",") {
		if x == o {
			return true
		}
	}
	return false
}

// visible keeps, of the mounts stacked on one mount point, the one on top:
// mountinfo lists a mount after the one it covers.
func visible(mounts []MountLine) []MountLine {
	last := map[string]int{}
	for i, m := range mounts {
		last[m.MountPoint] = i
	}
	out := make([]MountLine, 0, len(last))
	for i, m := range mounts {
		if last[m.MountPoint] == i {
			out = append(out, m)
		}
	}
	return out
}

// MaskCandidates are the paths Docker (moby's oci/defaults.go) and runc
// mask by default. They only say where an empty read-only tmpfs counts
// as a mask; what is masked is what mountinfo shows.
var MaskCandidates = []string{
	"/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore",
	"/proc/keys", "/proc/latency_stats", "/proc/timer_list",
	"/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
	"/sys/firmware", "/sys/devices/virtual/powercap",
}

// FindMasked returns the paths of a mount namespace that are masked the
// way runc's maskPath (libcontainer/rootfs_linux.go) masks them: a file
// by a bind mount of /dev/null (root "/null" of a devtmpfs, or of the
// tmpfs mounted at the target's /dev), anywhere; a directory by a
// read-only tmpfs over a MaskCandidates path, or over any other place
// under /proc or /sys, where a tmpfs only ever hides kernel files.
// file names the mountinfo read, for the evidence.
func FindMasked(mounts []MountLine, file string) PathList {
	devs := map[[2]uint32]bool{}
	for _, m := range mounts {
		if m.MountPoint == "/dev" {
			devs[[2]uint32{m.Major, m.Minor}] = true
		}
	}
	list := PathList{Paths: []Path{}}
	for _, m := range visible(mounts) {
		how := ""
		switch {
		case m.Root == "/null" && (m.FSType == "devtmpfs" || m.FSType == "tmpfs" && devs[[2]uint32{m.Major, m.Minor}]):
			how = "bind mount of /dev/null"
		case m.FSType == "tmpfs" && m.Root == "/" && (hasOption(m.Options, "ro") || hasOption(m.SuperOptions, "ro")) &&
			(isCandidate(m.MountPoint) || under(m.MountPoint, "/proc") || under(m.MountPoint, "/sys")):
			how = "empty read-only tmpfs"
		default:
			continue
		}
		list.Paths = append(list.Paths, Path{Path: m.MountPoint, How: how, Evidence: m.evidence(file)})
	}
	sortPaths(list.Paths)
	return list
}

func isCandidate(p string) bool {
	for _, c := range MaskCandidates {
		if p == c {
			return true
		}
	}
	return false
}

// under reports whether p lies strictly below dir.
func under(p, dir string) bool { return strings.HasPrefix(p, dir+"/") }

// FindReadonly returns the mount points that are read-only among those
// where it matters for isolation: "/" (docker --read-only), /sys (sysfs
// is mounted ro without --privileged) and everything under /proc and /sys
// (runc's readonlyPath binds /proc/bus, /proc/fs, /proc/irq, /proc/sys and
// /proc/sysrq-trigger read-only over themselves). How says whether the
// mount (MS_RDONLY on the vfsmount) or its superblock is read-only.
func FindReadonly(mounts []MountLine, file string) PathList {
	list := PathList{Paths: []Path{}}
	for _, m := range visible(mounts) {
		p := m.MountPoint
		if p != "/" && p != "/sys" && !under(p, "/proc") && !under(p, "/sys") {
			continue
		}
		how := ""
		switch {
		case hasOption(m.Options, "ro"):
			how = "mount option ro"
		case hasOption(m.SuperOptions, "ro"):
			how = "superblock ro"
		default:
			continue
		}
		list.Paths = append(list.Paths, Path{Path: p, How: how, Evidence: m.evidence(file)})
	}
	sortPaths(list.Paths)
	return list
}

func sortPaths(p []Path) {
	sort.SliceStable(p, func(i, j int) bool { return p[i].Path < p[j].Path })
}
