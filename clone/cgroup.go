package clone

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/nsinspect/nsinspect/procinfo"
)

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
