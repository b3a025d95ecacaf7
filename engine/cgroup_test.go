package engine

import (
	"bytes"
	"github.com/nsinspect/nsinspect/procinfo"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	podmanID  = "7bdc4c6dedb12eaaf793412dc8b0e4550a54d1ead7f2bae7a1517f3c959a5763"
	fixtureID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	outerID   = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
	// podUIDSystemd is a pod UID as kubelet's systemd driver writes it
	// in a slice name: its dashes as underscores.
	podUIDSystemd = "0f6c1f6e_8d3a_4b7e_9f58_2a1d3c4b5e6f"
)

// The fixtures are real /proc/PID/cgroup files (testdata/cgroup/capture.sh).
func TestContainerFromCgroupsFixtures(t *testing.T) {
	for _, tt := range []struct {
		file   string
		engine string // "" means no container
		id     string // "" means: read it from the path below
		cgroup string
	}{
		{"docker-cgroupfs-v1-hybrid", "docker", "", "/docker/"},
		{"docker-cgroupns-private-from-host", "docker", "", "/docker/"},
		{"docker-cgroupns-private-from-inside", "", "", ""},
		{"docker-systemd", "docker", fixtureID, "/system.slice/docker-" + fixtureID + ".scope"},
		{"docker-in-docker", "docker", fixtureID, "/docker/" + outerID + "/docker/" + fixtureID},
		{"podman-systemd", "podman", fixtureID, "/machine.slice/libpod-" + fixtureID + ".scope"},
		{"podman-cgroupfs", "podman", fixtureID, "/libpod_parent/libpod-" + fixtureID},
		{"podman-conmon", "", "", ""},
		// Real, from podman 4.3.1 (cgroupfs manager) on this cgroup v1 host.
		{"podman-rootful-cgroupfs-v1", "podman", podmanID, "/libpod_parent/libpod-" + podmanID},
		{"podman-rootful-conmon-v1", "", "", ""},
		{"podman-rootless-v1", "", "", ""}, // no cgroup of its own: the engine package finds its conmon
		{"runc-default-v1", "", "", ""},    // runc's default /ID names no engine: the engine package reads runc's state
		{"cri-containerd", "containerd", fixtureID, "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1a2b.slice/cri-containerd-" + fixtureID + ".scope"},
		{"crio", "cri-o", fixtureID, "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1a2b.slice/crio-" + fixtureID + ".scope"},
		{"kubepods-cgroupfs", "kubernetes", fixtureID, "/kubepods/besteffort/pod1a2b3c4d-0000-1111-2222-333344445555/" + fixtureID},
		// containerd's systemd driver on cgroup v1 (legacy mode: the v2
		// line is "/"), recognised from the v1 lines, burstable and
		// guaranteed QoS.
		{"cri-containerd-systemd-v1", "containerd", fixtureID, "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + podUIDSystemd + ".slice/cri-containerd-" + fixtureID + ".scope"},
		{"cri-containerd-systemd-v1-guaranteed", "containerd", fixtureID, "/kubepods.slice/kubepods-pod" + podUIDSystemd + ".slice/cri-containerd-" + fixtureID + ".scope"},
		{"host", "", "", ""},
	} {
		cgs := cgroupFixture(t, cgroupPath(tt.file))
		c := FromCgroups(cgs)
		if tt.engine == "" {
			if c != nil {
				t.Errorf("%s: recognised %+v, want no container", tt.file, c)
			}
			continue
		}
		if c == nil {
			t.Errorf("%s: no container recognised, want %s", tt.file, tt.engine)
			continue
		}
		id := tt.id
		if id == "" {
			// The real docker fixtures carry the id of the container
			// they were captured from; it is the v2 line's last component.
			id = filepath.Base(cgs[len(cgs)-1].Path)
			tt.cgroup += id
		}
		if c.Engine != tt.engine || c.ID != id || c.Cgroup != tt.cgroup || c.ShortID() != id[:12] || c.Via != "cgroup" {
			t.Errorf("%s: got %+v, want engine %s id %s cgroup %s", tt.file, c, tt.engine, id, tt.cgroup)
		}
	}
}

// runc's ids are whatever its user chose: only a 64-hex-digit one is cut.
func TestShortID(t *testing.T) {
	for id, want := range map[string]string{fixtureID: fixtureID[:12], "nsi-runc-probe": "nsi-runc-probe", "ab": "ab"} {
		if got := (Container{ID: id}).ShortID(); got != want {
			t.Errorf("ShortID(%q) = %q, want %q", id, got, want)
		}
	}
}

func TestContainerFromCgroupPathOdd(t *testing.T) {
	for _, tt := range []struct {
		path string
		id   string // "" means none
	}{
		{"/", ""},
		{"", ""},
		{"/docker", ""},
		{"/docker/" + fixtureID[:63], ""}, // too short
		{"/docker/" + strings.ToUpper(fixtureID), ""},             // engines write lower case
		{"/docker/" + fixtureID + "0", ""},                        // too long
		{"/docker-" + fixtureID + ".scope/sub", fixtureID},        // a cgroup made inside the container
		{"/user.slice/libpod-" + fixtureID + ".scope", fixtureID}, // rootless podman
		{"/crio-conmon-" + fixtureID + ".scope", ""},
		{"/other/" + fixtureID, ""}, // a bare id under an unknown parent: not guessed
		{"/system.slice/docker.service", ""},
	} {
		c := FromCgroupPath(tt.path)
		if (c != nil) != (tt.id != "") || (c != nil && c.ID != tt.id) {
			t.Errorf("FromCgroupPath(%q) = %+v; want id %q", tt.path, c, tt.id)
		}
	}
}

// The v2 line wins over v1 lines, which are tried in file order.
func TestContainerFromCgroupsOrder(t *testing.T) {
	cgs := []procinfo.Cgroup{
		{HierarchyID: 4, Path: "/docker/" + outerID},
		{HierarchyID: 0, Path: "/system.slice/docker-" + fixtureID + ".scope"},
	}
	if c := FromCgroups(cgs); c == nil || c.ID != fixtureID {
		t.Errorf("got %+v, want the v2 line's id", c)
	}
	cgs[1].Path = "/"
	if c := FromCgroups(cgs); c == nil || c.ID != outerID {
		t.Errorf("got %+v, want the v1 line's id when v2 names none", c)
	}
}

func FuzzFromCgroupPath(f *testing.F) {
	files, _ := filepath.Glob("testdata/cgroup/*")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		cgs, _ := procinfo.ParseCgroup(bytes.NewReader(b)) // capture.sh parses as nothing
		for _, cg := range cgs {
			f.Add(cg.Path)
		}
	}
	f.Fuzz(func(t *testing.T, path string) {
		c := FromCgroupPath(path)
		if c == nil {
			return
		}
		if !isContainerID(c.ID) || c.Engine == "" || !strings.HasPrefix(path, c.Cgroup) || !strings.Contains(c.Cgroup, c.ID) {
			t.Fatalf("FromCgroupPath(%q) = %+v", path, c)
		}
	})
}

// cgroupPath is a fixture's file: the container ones here, "host" a host
// process's from procinfo's.
func cgroupPath(name string) string {
	if name == "host" {
		return "../procinfo/testdata/cgroup/hybrid"
	}
	return "testdata/cgroup/" + name
}
