package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// nsLinks are the ten /proc/PID/ns links compare reports.
var nsLinks = []string{"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "time_for_children", "user", "uts"}

// TestDocker builds the image, starts real containers and inspects them
// from the host and from inside. Its cleanup, registered first and so run
// last, asserts that nothing but the image is left behind.
func TestDocker(t *testing.T) {
	e := requireEngine(t)
	t.Log(e.info)
	before := snapshot(t, e)
	t.Cleanup(func() { checkNoLeaks(t, e, before) })
	t.Run("isolation", func(t *testing.T) { testIsolation(t, e) })
	t.Run("inside", func(t *testing.T) { testInside(t, e) })
}

// isolationCase is one docker run flag and the namespaces it makes shared
// with the host beyond the default container's.
type isolationCase struct {
	name   string
	flags  []string
	shared []string
}

// testIsolation checks `compare self PID --expect` on a container per
// flag: the default container shares only user and time (and cgroup when
// the engine says its cgroupns mode is host), and each flag makes exactly
// its namespaces shared.
func testIsolation(t *testing.T, e *engine) {
	cases := []isolationCase{
		{"default", nil, nil},
		{"network-host", []string{"--network", "host"}, []string{"net"}},
		{"ipc-host", []string{"--ipc", "host"}, []string{"ipc"}},
		{"pid-host", []string{"--pid", "host"}, []string{"pid", "pid_for_children"}},
		{"uts-host", []string{"--uts", "host"}, []string{"uts"}},
		{"cgroupns-host", []string{"--cgroupns", "host"}, []string{"cgroup"}},
		{"cgroupns-private", []string{"--cgroupns", "private"}, nil},
		{"userns-host", []string{"--userns", "host"}, []string{"user"}},
	}
	if !e.usernsRemap {
		t.Log("ENGINE LIMIT: userns-remap is not enabled (no name=userns in docker info's security options): " +
			"no container gets its own user namespace here, so --userns can only be checked as --userns=host, " +
			"and the default container is expected to share the host's user namespace")
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := e.startHold(t, tc.name, tc.flags...)
			want := expectedSharing(t, e, c, tc)
			var parts []string
			for _, n := range nsLinks {
				parts = append(parts, n+"="+want[n])
			}
			expect := strings.Join(parts, ",")
			r := nsinspect(t, "compare", "--json", "self", fmt.Sprint(c.pid), "--expect", expect)
			if r.code != 0 {
				t.Fatalf("compare self %d --expect %s: exit %d\n%s%s", c.pid, expect, r.code, r.stderr, r.stdout)
			}
			var got struct {
				compareJSON
				B struct {
					PID       int `json:"pid"`
					Container *struct {
						Engine, ID, Name, Cgroup string
					} `json:"container"`
				} `json:"b"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatal(err)
			}
			v := got.verdicts()
			for _, n := range nsLinks {
				if v[n] != want[n] {
					t.Errorf("%s: %s, want %s", n, v[n], want[n])
				}
			}
			bc := got.B.Container
			if bc == nil || bc.Engine != "docker" || bc.ID != c.id || bc.Name != c.name {
				t.Errorf("container of pid %d: %+v, want docker %s named %s", c.pid, bc, c.id, c.name)
			}
			// The table says the same in words.
			table := mustRun(t, "compare", "self", fmt.Sprint(c.pid))
			if !strings.Contains(table, "in docker container "+c.id[:12]+" ("+c.name+")") {
				t.Errorf("compare table does not name the container:\n%s", table)
			}
		})
	}
	t.Run("violation", func(t *testing.T) {
		t.Parallel()
		c := e.startHold(t, "violation")
		r := nsinspect(t, "compare", "self", fmt.Sprint(c.pid), "--expect", "net=shared,user=shared")
		if r.code != 1 || !strings.Contains(r.stderr, "net") || strings.Contains(r.stderr, "user") {
			t.Errorf("a container's own netns asserted shared: exit %d, stderr %q; want exit 1 naming net only", r.code, r.stderr)
		}
	})
}

// expectedSharing is what Docker promises for a case: the default
// container's own namespaces (cgroup per the engine's cgroupns mode,
// user per userns-remap), with the case's flags shared.
func expectedSharing(t *testing.T, e *engine, c container, tc isolationCase) map[string]string {
	want := map[string]string{"time": "shared", "time_for_children": "shared", "user": "shared"}
	for _, n := range []string{"ipc", "mnt", "net", "pid", "pid_for_children", "uts"} {
		want[n] = "separate"
	}
	if e.usernsRemap {
		want["user"] = "separate"
	}
	// Docker's default cgroupns mode is host on cgroup v1 and private on
	// v2 (and a daemon option); the container's HostConfig says which.
	mode := mustDocker(t, "inspect", "-f", "{{.HostConfig.CgroupnsMode}}", c.id)
	switch mode {
	case "host":
		want["cgroup"] = "shared"
	case "private":
		want["cgroup"] = "separate"
	default:
		t.Fatalf("container %s: unknown cgroupns mode %q", c.name, mode)
	}
	if len(tc.flags) == 2 && tc.flags[0] == "--cgroupns" && mode != tc.flags[1] {
		t.Fatalf("container %s: cgroupns mode %q, asked for %q", c.name, mode, tc.flags[1])
	}
	for _, n := range tc.shared {
		want[n] = "shared"
	}
	return want
}

// testInside runs nsinspect in containers: docker exec into a running
// one, and docker run of the image with and without privilege.
func testInside(t *testing.T, e *engine) {
	t.Run("exec", func(t *testing.T) {
		t.Parallel()
		c := e.startHold(t, "exec")
		mode := mustDocker(t, "inspect", "-f", "{{.HostConfig.CgroupnsMode}}", c.id)
		var expect []string
		for _, n := range nsLinks {
			expect = append(expect, n+"=shared")
		}
		out, err := docker(t, "exec", c.id, "/nsinspect", "compare", "--json", "1", "self", "--expect", strings.Join(expect, ","))
		if err != nil {
			t.Fatalf("an exec'd process does not share every namespace with the container's PID 1: %v\n%s", err, out)
		}
		var got struct {
			A struct {
				Comm      string `json:"comm"`
				Container *struct{ ID, Name string }
			} `json:"a"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		if got.A.Comm != "nsinspect" {
			t.Errorf("pid 1 inside is %q, want nsinspect (hold)", got.A.Comm)
		}
		// In a private cgroup namespace the container's own cgroup is "/":
		// nothing names it from inside. In the host's, the path does.
		switch {
		case mode == "host" && (got.A.Container == nil || got.A.Container.ID != c.id):
			t.Errorf("inside, pid 1's container is %+v, want id %s", got.A.Container, c.id)
		case mode == "private" && got.A.Container != nil:
			t.Errorf("inside a private cgroupns, pid 1's container is %+v, want none", got.A.Container)
		}
	})

	t.Run("clone-privileged", func(t *testing.T) {
		t.Parallel()
		args := append(append([]string{"run", "--rm", "--label", e.label}, e.privileged...), image, "clone", "--json", "CLONE_NEWNET|CLONE_FILES")
		out, err := docker(t, args...)
		if err != nil {
			t.Fatalf("clone in a privileged container: %v\n%s", err, out)
		}
		var rep struct {
			Mode      string
			Errno     *string
			Resources []struct {
				Name   string
				Shared *bool
				Agree  bool
			}
			Disagreements []string
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Mode != "lab" || rep.Errno != nil || len(rep.Disagreements) > 0 || len(rep.Resources) == 0 {
			t.Fatalf("clone report: mode %q, errno %v, disagreements %v", rep.Mode, rep.Errno, rep.Disagreements)
		}
		for _, r := range rep.Resources {
			want := r.Name != "net" && r.Name != "fs" && r.Name != "vm" && r.Name != "sighand" && r.Name != "io" && r.Name != "sysvsem"
			if r.Shared == nil || *r.Shared != want || !r.Agree {
				t.Errorf("%s: shared %v (agree %v), want %v", r.Name, r.Shared, r.Agree, want)
			}
		}
	})

	t.Run("clone-unprivileged", func(t *testing.T) {
		t.Parallel()
		r := runCmd(t, testutil.Command(t, testutil.Quick, "docker", "run", "--rm", "--label", e.label, image, "clone", "net"))
		if r.code != 4 {
			t.Fatalf("clone without privilege: exit %d, want 4\n%s%s", r.code, r.stdout, r.stderr)
		}
		msg := strings.TrimSpace(r.stderr)
		if strings.Count(msg, "\n") != 0 || !strings.HasPrefix(msg, "nsinspect: cannot create the lab's namespaces") {
			t.Errorf("stderr is not one line saying why: %q", msg)
		}
	})

	// With --pid host the container sees host processes; this test
	// process is one, in the host's namespaces. (Host PID 1 is no good
	// reference: on some VMs even host root may not read its ns links.)
	t.Run("pid-host", func(t *testing.T) {
		t.Parallel()
		me := fmt.Sprint(os.Getpid())
		host := mustRun(t, "show", "--json", me)
		args := append(append([]string{"run", "--rm", "--label", e.label, "--pid", "host"}, e.privileged...), image, "show", "--json", me)
		inside := mustDocker(t, args...)
		var h, in showJSONSubset
		if err := json.Unmarshal([]byte(host), &h); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(inside), &in); err != nil {
			t.Fatal(err)
		}
		for _, link := range []string{"pid", "net", "mnt"} {
			if in.nsID(link) == 0 || in.nsID(link) != h.nsID(link) {
				t.Errorf("--pid=host: pid %s's %s namespace is %d seen from inside, %d from the host", me, link, in.nsID(link), h.nsID(link))
			}
		}
		if in.Comm != h.Comm {
			t.Errorf("--pid=host: pid %s is %q inside, %q on the host", me, in.Comm, h.Comm)
		}
		// From inside, self is in the container and the test process on the host.
		args = append(append([]string{"run", "--rm", "--label", e.label, "--pid", "host"}, e.privileged...), image,
			"compare", "self", me, "--expect", "pid=shared,net=separate,mnt=separate,uts=separate,ipc=separate")
		if out, err := docker(t, args...); err != nil {
			t.Errorf("compare self %s in a --pid=host container: %v\n%s", me, err, out)
		}
		// ls from inside lists the host's namespaces, with this test
		// process counted in the host's network namespace.
		args = append(append([]string{"run", "--rm", "--label", e.label, "--pid", "host"}, e.privileged...), image, "ls", "--json", "-t", "net")
		var ls struct {
			Namespaces []struct {
				NS     uint64 `json:"ns"`
				NProcs int    `json:"nprocs"`
			} `json:"namespaces"`
		}
		if err := json.Unmarshal([]byte(mustDocker(t, args...)), &ls); err != nil {
			t.Fatal(err)
		}
		var hostNet uint64
		for _, n := range h.NS {
			if n.Link == "net" {
				hostNet = n.Ino
			}
		}
		found := false
		for _, n := range ls.Namespaces {
			found = found || (n.NS == hostNet && n.NProcs > 1)
		}
		if !found {
			t.Errorf("ls -t net in a --pid=host container does not list the host's net namespace %d with its processes: %+v", hostNet, ls.Namespaces)
		}
	})
}

// showJSONSubset is the part of `show --json` these tests read.
type showJSONSubset struct {
	Comm string `json:"comm"`
	NS   []struct {
		Link string `json:"link"`
		ID   uint64 `json:"id"`
		Ino  uint64 `json:"ns"`
	} `json:"namespaces"`
}

func (s showJSONSubset) nsID(link string) uint64 {
	for _, n := range s.NS {
		if n.Link == link {
			return n.ID
		}
	}
	return 0
}
