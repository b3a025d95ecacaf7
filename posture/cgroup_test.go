package posture

import (
	"errors"
	"strings"
	"testing"
)

func TestPlanCgroup(t *testing.T) {
	const id = "6534ea15e9d0daaa7f9d1393d43fe22b324afb6669548600a6aee9edd4e1f80f"
	for _, tc := range []struct {
		name, cgroup, reader string
		version              int
		path, pids, memory   string
		pidsWhy, memoryWhy   string // substrings of Why when the file is ""
	}{
		// A docker container on this cgroup v1 host (cgroupfs driver),
		// read from the host.
		{"docker-v1-from-host", "docker-v1", "host-init", 1, "/docker/" + id,
			"/sys/fs/cgroup/pids/docker/" + id + "/pids.max", "/sys/fs/cgroup/memory/docker/" + id + "/memory.limit_in_bytes", "", ""},
		{"host-v1", "host-v1", "host-init", 1, "/", "/sys/fs/cgroup/pids/pids.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes", "", ""},
		// The container reading its own cgroup: its mounts' root is
		// /docker/ID, which is subtracted.
		{"docker-v1-from-inside", "docker-v1", "docker-default", 1, "/docker/" + id,
			"/sys/fs/cgroup/pids/pids.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes", "", ""},
		// The host's cgroup seen through the container's mounts: outside.
		{"host-v1-from-inside", "host-v1", "docker-default", 1, "/", "", "", "outside the reader's mount", "outside the reader's mount"},
		// The kernel matrix's VMs: cgroup2 only.
		{"v2", "edited-v2", "edited-v2-reader", 2, "/kmx/posture-test",
			"/sys/fs/cgroup/kmx/posture-test/pids.max", "/sys/fs/cgroup/kmx/posture-test/memory.max", "", ""},
		{"v2-reader-without-cgroup2", "edited-v2", "docker-default", 2, "/kmx/posture-test", "", "", "no cgroup2 mount", "no cgroup2 mount"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cg, err := ParseCgroup(fixture(t, "cgroup/"+tc.cgroup))
			if err != nil {
				t.Fatal(err)
			}
			plan, err := PlanCgroup(cg, mountFixture(t, tc.reader), "/proc/self/mountinfo", "/proc/42/cgroup")
			if err != nil {
				t.Fatal(err)
			}
			if plan.Version != tc.version || plan.Path != tc.path {
				t.Errorf("version %d path %q, want %d %q", plan.Version, plan.Path, tc.version, tc.path)
			}
			check := func(what string, lf LimitFile, want, why string) {
				if lf.File != want || !strings.Contains(lf.Why, why) {
					t.Errorf("%s: file %q (why %q), want %q (why %q)", what, lf.File, lf.Why, want, why)
				}
				if len(lf.Evidence) == 0 || lf.Evidence[0].File != "/proc/42/cgroup" || lf.Evidence[0].Line != lineOf(t, "cgroup/"+tc.cgroup, lf.Evidence[0].Text) {
					t.Errorf("%s: evidence %+v", what, lf.Evidence)
				}
			}
			check("pids", plan.Pids, tc.pids, tc.pidsWhy)
			check("memory", plan.Memory, tc.memory, tc.memoryWhy)
		})
	}
}

func TestParseCgroupRefuses(t *testing.T) {
	for _, bad := range []string{"x::/\n", "0:/\n", "-1::/\n"} {
		if _, err := ParseCgroup([]byte(bad)); !errors.Is(err, ErrParse) {
			t.Errorf("ParseCgroup(%q) = %v, want ErrParse", bad, err)
		}
	}
	if _, err := PlanCgroup(nil, nil, "a", "b"); err == nil {
		t.Error("an empty cgroup file must not plan")
	}
	// A path may hold colons.
	cg, err := ParseCgroup([]byte("0::/a:b c\n"))
	if err != nil || cg[0].Path != "/a:b c" {
		t.Errorf("%+v, %v", cg, err)
	}
}

func TestUnlimitedV1Memory(t *testing.T) {
	for in, want := range map[string]string{
		"9223372036854771712": "max", // v1, 4 KiB pages (this host)
		"9223372036854710272": "max", // v1, 64 KiB pages
		"max":                 "max", // v2
		"1073741824":          "1073741824",
		"":                    "",
	} {
		if got := UnlimitedV1Memory(in); got != want {
			t.Errorf("UnlimitedV1Memory(%q) = %q, want %q", in, got, want)
		}
	}
}
