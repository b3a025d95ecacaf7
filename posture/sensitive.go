package posture

import (
	"path"
	"strings"
)

// Sensitive mount kinds.
const (
	KindDockerSocket     = "docker-socket"
	KindPodmanSocket     = "podman-socket"
	KindContainerdSocket = "containerd-socket"
	KindHostRoot         = "host-root"
	KindHostProc         = "host-proc"
	KindHostSys          = "host-sys"
	KindCgroupfsRW       = "cgroupfs-rw"
	KindHostRun          = "host-run"
	KindHostDev          = "host-dev"
)

// SensitiveKinds lists every SensitiveMount.Kind, for a policy to check
// the kinds it names against.
var SensitiveKinds = []string{
	KindDockerSocket, KindPodmanSocket, KindContainerdSocket, KindHostRoot, KindHostProc,
	KindHostSys, KindCgroupfsRW, KindHostRun, KindHostDev,
}

// noReferenceNote is SensitiveMounts.Note for an audit without a
// reference process.
const noReferenceNote = "no reference process: source is the mount's root within its filesystem, not a host path; " +
	"host-root, host-proc, host-sys and host-run need the host's mountinfo to be decided"

// harmlessDevNodes are devtmpfs files that give no power when bound in
// (runc binds /dev/null over masked files).
var harmlessDevNodes = map[string]bool{"/null": true, "/zero": true, "/full": true, "/random": true, "/urandom": true, "/tty": true}

// FindSensitive returns the mounts of the target's mount namespace that
// bring in a piece of the host that gives power over it. ref is the
// reference's (the host's) mountinfo, nil when no reference is visible;
// it turns a mount's root within its filesystem into the host path
// (Source) and decides the kinds that are "the host's" by device:
//
//   - host-root: the filesystem of the reference's "/" at its root,
//     mounted elsewhere than the target's "/" (or as the target's "/");
//   - host-proc, host-sys: a mount of the reference's /proc or /sys
//     superblock (major:minor). A target in the host's pid (net)
//     namespace may share it legitimately; it is reported all the same;
//   - host-run: the host's /run or /var/run.
//
// The other kinds need no reference: an engine's socket (docker.sock,
// podman.sock, containerd.sock as mount point or root), a cgroup or
// cgroup2 filesystem mounted read-write, and any devtmpfs, which has one
// superblock for the whole kernel (host-dev; /dev/null and the like
// bound over masked files excepted).
func FindSensitive(target, ref []MountLine, file string) SensitiveMounts {
	out := SensitiveMounts{Mounts: []SensitiveMount{}}
	if ref == nil {
		out.Note = noReferenceNote
	}
	refAt := map[string]MountLine{}
	for _, m := range visible(ref) {
		refAt[m.MountPoint] = m
	}
	for _, m := range visible(target) {
		source, resolved := m.Root, false
		if ref != nil {
			source, resolved = hostPath(m, ref)
		}
		kind := sensitiveKind(m, source, resolved, refAt)
		if kind == "" {
			continue
		}
		rw := hasOption(m.Options, "rw") && !hasOption(m.SuperOptions, "ro")
		out.Mounts = append(out.Mounts, SensitiveMount{
			Path: m.MountPoint, Source: source, Kind: kind, ReadWrite: rw, Evidence: m.evidence(file),
		})
	}
	return out
}

func sensitiveKind(m MountLine, source string, resolved bool, refAt map[string]MountLine) string {
	dev := [2]uint32{m.Major, m.Minor}
	same := func(at string) bool {
		r, ok := refAt[at]
		return ok && [2]uint32{r.Major, r.Minor} == dev
	}
	for _, name := range []string{m.MountPoint, m.Root, source} {
		switch {
		case strings.HasSuffix(name, "docker.sock"):
			return KindDockerSocket
		case strings.HasSuffix(name, "podman.sock"):
			return KindPodmanSocket
		case strings.HasSuffix(name, "containerd.sock"):
			return KindContainerdSocket
		}
	}
	switch {
	case m.FSType == "cgroup" || m.FSType == "cgroup2":
		if hasOption(m.Options, "rw") {
			return KindCgroupfsRW
		}
		return ""
	case m.FSType == "devtmpfs" || same("/dev"):
		if harmlessDevNodes[m.Root] {
			return ""
		}
		return KindHostDev
	case same("/proc") && m.FSType == "proc":
		return KindHostProc
	case same("/sys") && m.FSType == "sysfs":
		return KindHostSys
	case same("/") && m.Root == refAt["/"].Root:
		return KindHostRoot
	case resolved && (source == "/run" || source == "/var/run"):
		return KindHostRun
	}
	return ""
}

// hostPath turns a target mount's root into a path of the reference's
// mount namespace: the reference's mount of the same device whose root is
// the longest prefix of it, joined with the rest. ok is false (and the
// root is returned) when the reference has no mount of that device.
func hostPath(m MountLine, ref []MountLine) (string, bool) {
	best := -1
	for i, r := range ref {
		if r.Major != m.Major || r.Minor != m.Minor || !pathWithin(m.Root, r.Root) {
			continue
		}
		if best < 0 || len(r.Root) > len(ref[best].Root) {
			best = i
		}
	}
	if best < 0 {
		return m.Root, false
	}
	r := ref[best]
	return path.Join(r.MountPoint, strings.TrimPrefix(m.Root, r.Root)), true
}

// pathWithin reports whether p is dir or lies below it.
func pathWithin(p, dir string) bool {
	return dir == "/" || p == dir || strings.HasPrefix(p, dir+"/")
}
