package posture

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func pathsOf(l PathList) []string {
	out := []string{}
	for _, p := range l.Paths {
		out = append(out, p.Path+" "+p.How)
	}
	return out
}

// cgroupV1 are the cgroup v1 hierarchies mounted on the docker host.
var cgroupV1 = []string{"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "pids", "systemd"}

func withCgroups(paths []string, how string) []string {
	for _, c := range cgroupV1 {
		paths = append(paths, "/sys/fs/cgroup/"+c+" "+how)
	}
	return paths
}

func TestFindMaskedAndReadonly(t *testing.T) {
	ro := "mount option ro"
	dockerRO := withCgroups([]string{
		"/proc/acpi " + ro, "/proc/bus " + ro, "/proc/fs " + ro, "/proc/irq " + ro, "/proc/sys " + ro,
		"/sys " + ro, "/sys/firmware " + ro,
	}, ro)
	dockerMasked := []string{
		"/proc/acpi empty read-only tmpfs", "/proc/keys bind mount of /dev/null",
		"/proc/timer_list bind mount of /dev/null", "/sys/firmware empty read-only tmpfs",
	}
	for _, tc := range []struct {
		fixture          string
		masked, readonly []string
	}{
		// This kernel has no /proc/kcore, /proc/scsi, ...: runc masks only
		// what exists, and so only these show.
		{"docker-default", dockerMasked, dockerRO},
		{"docker-readonly", dockerMasked, append([]string{"/ " + ro}, dockerRO...)},
		{"docker-docker-sock", dockerMasked, dockerRO},
		{"docker-fuse", dockerMasked, dockerRO},
		// --security-opt systempaths=unconfined: nothing masked, nothing
		// bound read-only; sysfs is still ro without --privileged.
		{"docker-privileged-equiv", []string{}, withCgroups([]string{"/sys " + ro}, ro)},
		{"host-init", []string{}, []string{}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			mounts := mountFixture(t, tc.fixture)
			file := "/proc/42/mountinfo"
			masked := FindMasked(mounts, file)
			if got := pathsOf(masked); !sameStrings(got, tc.masked) {
				t.Errorf("masked:\n got %q\nwant %q", got, tc.masked)
			}
			readonly := FindReadonly(mounts, file)
			if got := pathsOf(readonly); !sameStrings(got, sortedCopy(tc.readonly)) {
				t.Errorf("read-only:\n got %q\nwant %q", got, sortedCopy(tc.readonly))
			}
			for _, p := range append(masked.Paths, readonly.Paths...) {
				e := p.Evidence
				if e.File != file || e.Line != lineOf(t, "mountinfo/"+tc.fixture, e.Text) || !strings.Contains(e.Text, " "+p.Path+" ") {
					t.Errorf("%s: evidence %+v does not point at its line", p.Path, e)
				}
			}
		})
	}
}

func sortedCopy(s []string) []string {
	out := append([]string{}, s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if strings.Fields(out[j])[0] < strings.Fields(out[i])[0] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestMaskedSynthetic(t *testing.T) {
	text := strings.Join([]string{
		"1 0 8:1 / / rw - ext4 /dev/sda1 rw",
		"2 1 0:5 / /dev rw - devtmpfs udev rw",
		// a /dev/null bind anywhere counts, a /dev/zero bind does not
		"3 1 0:5 /null /opt/secret rw - devtmpfs udev rw",
		"4 1 0:5 /zero /opt/zero rw - devtmpfs udev rw",
		// a tmpfs "/null" that is not the target's /dev tmpfs is a file called null
		"5 1 0:77 /null /opt/other rw - tmpfs tmpfs rw",
		// a read-write tmpfs under /proc hides nothing runc would hide
		"6 1 0:78 / /proc/scsi rw - tmpfs tmpfs rw",
		"7 1 0:79 / /proc/scsi ro - tmpfs tmpfs ro",
		// a read-only tmpfs elsewhere is just a tmpfs
		"8 1 0:80 / /srv ro - tmpfs tmpfs ro",
		// superblock ro only
		"9 1 0:81 / /sys/devices/virtual/powercap rw - tmpfs tmpfs ro",
		`10 1 0:5 /null /opt/with\040space rw - devtmpfs udev rw`,
	}, "\n") + "\n"
	mounts, err := ParseMountInfo([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	got := pathsOf(FindMasked(mounts, "f"))
	want := []string{
		"/opt/secret bind mount of /dev/null", "/opt/with space bind mount of /dev/null",
		"/proc/scsi empty read-only tmpfs", "/sys/devices/virtual/powercap empty read-only tmpfs",
	}
	if !sameStrings(got, want) {
		t.Errorf("masked:\n got %q\nwant %q", got, want)
	}
	got = pathsOf(FindReadonly(mounts, "f"))
	want = []string{"/proc/scsi mount option ro", "/sys/devices/virtual/powercap superblock ro"}
	if !sameStrings(got, want) {
		t.Errorf("read-only:\n got %q\nwant %q", got, want)
	}
}

func sorted(s []string) []string {
	out := append([]string{}, s...)
	slices.Sort(out)
	return out
}

func sensitiveOf(s SensitiveMounts) []string {
	out := []string{}
	for _, m := range s.Mounts {
		out = append(out, fmt.Sprintf("%s %s %s rw=%v", m.Path, m.Kind, m.Source, m.ReadWrite))
	}
	return out
}

func TestFindSensitive(t *testing.T) {
	host := mountFixture(t, "host-init")
	overlay := "/host/var/lib/docker/fuse-overlayfs/40c1e6d2ed253d58af8f31360edbcc0377c4868fbb9d075e4915279f22b4b3b7/merged"
	// cgroupRW is what the host's read-write cgroup hierarchies, bound
	// at each of at, give: source is the host path, or with no reference
	// the hierarchy's root.
	cgroupRW := func(resolved bool, at ...string) []string {
		var out []string
		for _, a := range at {
			for _, c := range append(append([]string{}, cgroupV1...), "unified") {
				src := "/"
				if resolved {
					src = "/sys/fs/cgroup/" + c
				}
				out = append(out, a+"/"+c+" cgroupfs-rw "+src+" rw=true")
			}
		}
		return out
	}
	hostCgroupDirs := []string{"/hostcg", "/host/sys/fs/cgroup", overlay + "/hostcg", "/hostsys/fs/cgroup"}
	for _, tc := range []struct {
		fixture string
		ref     []MountLine
		want    []string
	}{
		{"docker-default", host, []string{}},
		{"docker-privileged-equiv", host, []string{}},
		{"docker-docker-sock", host, []string{"/var/run/docker.sock docker-socket /run/docker.sock rw=true"}},
		{"docker-docker-sock", nil, []string{"/var/run/docker.sock docker-socket /run/docker.sock rw=true"}},
		{"docker-host-mounts", host, append([]string{
			"/hostdev host-dev /dev rw=true",
			"/host host-root / rw=false",
			"/host/proc host-proc /proc rw=true",
			"/host/sys host-sys /sys rw=true",
			"/host/dev host-dev /dev rw=true",
			overlay + "/hostdev host-dev /dev rw=true",
			"/hostproc host-proc /proc rw=true",
			"/hostsys host-sys /sys rw=true",
			"/hostrun host-run /run rw=true",
		}, cgroupRW(true, hostCgroupDirs...)...)},
		// Without the host's mountinfo only what needs no device match.
		{"docker-host-mounts", nil, append([]string{
			"/hostdev host-dev / rw=true",
			"/host/dev host-dev / rw=true",
			overlay + "/hostdev host-dev / rw=true",
		}, cgroupRW(false, hostCgroupDirs...)...)},
		// The host against itself: its own root, proc, sys and dev are the host's.
		{"host-init", host, append([]string{
			"/proc host-proc /proc rw=true", "/sys host-sys /sys rw=true",
			"/dev host-dev /dev rw=true", "/ host-root / rw=true",
		}, cgroupRW(true, "/sys/fs/cgroup")...)},
	} {
		name := tc.fixture
		if tc.ref == nil {
			name += "/no-reference"
		}
		t.Run(name, func(t *testing.T) {
			s := FindSensitive(mountFixture(t, tc.fixture), tc.ref, "/proc/42/mountinfo")
			if got := sensitiveOf(s); !sameStrings(sorted(got), sorted(tc.want)) {
				t.Errorf("sensitive:\n got %q\nwant %q", got, tc.want)
			}
			if (s.Note != "") != (tc.ref == nil) {
				t.Errorf("note %q with reference %v", s.Note, tc.ref != nil)
			}
			for _, m := range s.Mounts {
				if m.Evidence.Line != lineOf(t, "mountinfo/"+tc.fixture, m.Evidence.Text) {
					t.Errorf("%s: evidence %+v", m.Path, m.Evidence)
				}
			}
		})
	}
}

func TestHostPath(t *testing.T) {
	ref, err := ParseMountInfo([]byte(strings.Join([]string{
		"1 0 8:1 / / rw - ext4 /dev/sda1 rw",
		"2 1 8:1 /srv/data /data rw - ext4 /dev/sda1 rw",
		"3 1 0:30 / /run rw - tmpfs tmpfs rw",
		"4 1 8:1 /srvx /x rw - ext4 /dev/sda1 rw",
	}, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		line, want string
		ok         bool
	}{
		{"9 1 8:1 /srv/data/a /a rw - ext4 /dev/sda1 rw", "/data/a", true},
		{"9 1 8:1 /srv/datab /a rw - ext4 /dev/sda1 rw", "/srv/datab", true},
		{"9 1 8:1 /srvx/y /a rw - ext4 /dev/sda1 rw", "/x/y", true},
		{"9 1 0:30 /docker.sock /a rw - tmpfs tmpfs rw", "/run/docker.sock", true},
		{"9 1 0:30 / /a rw - tmpfs tmpfs rw", "/run", true},
		{"9 1 0:99 /z /a rw - tmpfs tmpfs rw", "/z", false},
	} {
		m, err := ParseMountInfo([]byte(tc.line))
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := hostPath(m[0], ref); got != tc.want || ok != tc.ok {
			t.Errorf("hostPath(%q) = %q, %v; want %q, %v", tc.line, got, ok, tc.want, tc.ok)
		}
	}
	// /run as a tmpfs of its own, bound in whole: host-run.
	target, _ := ParseMountInfo([]byte("9 1 0:30 / /hostrun rw - tmpfs tmpfs rw\n10 1 0:30 /containerd/containerd.sock /c.sock rw - tmpfs tmpfs rw\n"))
	got := sensitiveOf(FindSensitive(target, ref, "f"))
	want := []string{"/hostrun host-run /run rw=true", "/c.sock containerd-socket /run/containerd/containerd.sock rw=true"}
	if !sameStrings(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestParseMountInfoKeepsLines(t *testing.T) {
	for _, name := range []string{"docker-default", "docker-host-mounts", "host-init"} {
		b := fixture(t, "mountinfo/"+name)
		m := mountFixture(t, name)
		lines := splitLines(b)
		if len(m) != len(lines) {
			t.Fatalf("%s: %d mounts for %d lines", name, len(m), len(lines))
		}
		for i := range m {
			if m[i].Line != i+1 || m[i].Text != lines[i] {
				t.Errorf("%s: mount %d is line %d %q", name, i, m[i].Line, m[i].Text)
			}
		}
	}
	if m, err := ParseMountInfo(nil); err != nil || len(m) != 0 {
		t.Errorf("empty mountinfo: %v, %v", m, err)
	}
}
