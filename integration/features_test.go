package integration

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// features --json decides every probe on this kernel and names it.
func TestFeaturesJSON(t *testing.T) {
	var rep struct {
		Kernel   struct{ Release, Machine string }
		Cgo      bool
		Features []struct {
			Name, Since, Evidence string
			Present               *bool
		}
	}
	if err := json.Unmarshal([]byte(mustRun(t, "features", "--json")), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Kernel.Release == "" || rep.Kernel.Machine == "" || len(rep.Features) < 10 {
		t.Fatalf("features --json: %+v", rep)
	}
	for _, f := range rep.Features {
		if f.Present == nil || f.Since == "" || f.Evidence == "" {
			t.Errorf("%s: present %v, since %q, evidence %q", f.Name, f.Present, f.Since, f.Evidence)
		}
	}
	if out := mustRun(t, "features"); !strings.Contains(out, "NS_GET_ID") || !strings.Contains(out, rep.Kernel.Release) {
		t.Errorf("features (table) lacks NS_GET_ID or the release:\n%s", out)
	}
}

// A request that needs an interface the kernel lacks exits 4 with one line
// naming it and the release that added it, before any process is made;
// NSINSPECT_PRETEND_MISSING stands in for the old kernel.
func TestMissingFeatureExits4(t *testing.T) {
	testutil.RequireRoot(t)
	for _, c := range []struct {
		missing string
		args    []string
		want    string
	}{
		{"clone3", []string{"clone", "newtime"}, "needs clone3"},
		{"clone3", []string{"clone", "newnet", "--clone3"}, "needs clone3"},
		{"time namespaces", []string{"unshare", "newtime"}, "needs time namespaces"},
		{"CLONE_CLEAR_SIGHAND", []string{"clone", "clear_sighand"}, "Linux 5.5"},
		{"CLONE_INTO_CGROUP", []string{"clone", "into_cgroup"}, "Linux 5.7"},
		{"close_range", []string{"matrix"}, "needs close_range"},
		// Before 5.8 (no iter/task, iter/task_file) every view that reads
		// task_struct refuses in one line.
		{"BPF task iterators", []string{"show", "--kernel", "self"}, "Linux 5.8"},
		{"BPF task iterators", []string{"fds", "--kernel", "self"}, "Linux 5.8"},
		{"BPF task iterators", []string{"compare", "--kernel", "self", "1"}, "Linux 5.8"},
		{"BPF task iterators", []string{"ls", "--source", "bpf"}, "Linux 5.8"},
	} {
		cmd := testutil.Command(t, testutil.Quick, binary, c.args...)
		cmd.Env = append(os.Environ(), "NSINSPECT_PRETEND_MISSING="+c.missing)
		r := runCmd(t, cmd)
		what := c.missing + " missing: " + strings.Join(c.args, " ")
		checkOneLineError(t, r, 4, what)
		if !strings.Contains(r.stderr, c.want) || !strings.Contains(r.stderr, "nsinspect features") {
			t.Errorf("%s: stderr %q lacks %q", what, r.stderr, c.want)
		}
	}
	// Without PIDFD_THREAD and NS_GET_ID (before 6.9 and 6.18), compare of
	// a thread still decides every namespace link.
	cmd := testutil.Command(t, testutil.Quick, binary, "compare", "--json", "self", "self")
	cmd.Env = append(os.Environ(), "NSINSPECT_PRETEND_MISSING=PIDFD_THREAD,NS_GET_ID")
	out, err := testutil.Output(cmd)
	if err != nil {
		t.Fatalf("compare self self without PIDFD_THREAD and NS_GET_ID: %v", err)
	}
	checkContract(t, cmd.Args, string(out))
	var rep struct {
		Resources []struct {
			Name   string
			Shared *bool
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Resources[:10] {
		if r.Shared == nil || !*r.Shared {
			t.Errorf("compare self self, %s: %v, want shared", r.Name, r.Shared)
		}
	}
}
