package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// The ground truth tests. nsinspect's answers are checked against the
// kernel's own, as busybox gives it: processes made by `busybox unshare`,
// and `busybox readlink /proc/PID/ns/<link>` for each of them, so that
// nothing nsinspect computes (and no Go code of this repository) stands
// between the kernel and the expected value. They are the tests the busybox
// VMs run on every kernel (-test.run '^TestKernelTruth', CI=true, with
// NSINSPECT_BIN and NSINSPECT_BUSYBOX): the namespaces of live processes are
// held for the whole test, so their inode numbers identify them.

// truthEvidence is the part of a resource's evidence the truth tests
// read: both sides' namespace inodes, or the error.
type truthEvidence struct {
	A, B *struct {
		Ino uint64 `json:"ns"`
	}
	Error string `json:"error"`
}

// truthLinks are the ten /proc/PID/ns links, in the kernel's order.
var truthLinks = []string{"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "time_for_children", "user", "uts"}

// truthResources are compare's and clone's sixteen resources: the links,
// then what kcmp(2) compares.
var truthResources = append(slices.Clone(truthLinks), "files", "fs", "vm", "sighand", "io", "sysvsem")

// truthDeadline bounds every wait for a process; the waits poll, so it
// only matters when something is wrong (generous for QEMU under TCG).
const truthDeadline = 20 * time.Second

// truthLinkType is the namespace type a link names: pid_for_children is a pid
// namespace.
func truthLinkType(link string) string {
	typ, _ := strings.CutSuffix(link, "_for_children")
	return typ
}

// truthRef is what readlink gave for one link: "net:[4026532262]".
type truthRef struct {
	typ string
	ino uint64
}

func (r truthRef) String() string { return fmt.Sprintf("%s:[%d]", r.typ, r.ino) }

// truthNS is a process's ten links, by link name.
type truthNS map[string]truthRef

// truthProc is one process of the population and what the kernel says of
// it.
type truthProc struct {
	name string // short, for subtest names
	what string // how it was made, for messages
	pid  int
	ns   truthNS
}

func (p *truthProc) String() string { return fmt.Sprintf("pid %d (%s)", p.pid, p.what) }

// truthBox is busybox and a "sleep" symlink to it: exec'ing the symlink
// runs busybox's sleep applet under the comm "sleep", whatever the busybox
// build's applet preferences and whether the VM has a sleep on PATH.
type truthBox struct {
	path, sleep string
	started     []int // every pid started or found, checked gone at the end
}

// newTruthBox finds busybox ($NSINSPECT_BUSYBOX, else busybox on PATH) and
// registers, first, the check that every process the test made is gone
// after the test's cleanups have run.
func newTruthBox(t *testing.T) *truthBox {
	t.Helper()
	testutil.RequireRoot(t)
	path := os.Getenv("NSINSPECT_BUSYBOX")
	if path == "" {
		path = testutil.RequireCommand(t, "busybox", "busybox-static (or set NSINSPECT_BUSYBOX=/path/to/busybox)")
	} else if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() || st.Mode()&0o111 == 0 {
		t.Fatalf("NSINSPECT_BUSYBOX=%s is not an executable file (%v)", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	bb := &truthBox{path: abs, sleep: filepath.Join(t.TempDir(), "sleep")}
	if err := os.Symlink(abs, bb.sleep); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bb.checkGone(t) })
	return bb
}

// checkGone fails the test if a process it made is still there: a child
// not reaped, or pid 1 of a new pid namespace that outlived its unshare.
func (bb *truthBox) checkGone(t *testing.T) {
	t.Helper()
	for _, c := range testutil.Children() {
		pid, _ := strconv.Atoi(strings.Fields(c)[0])
		if slices.Contains(bb.started, pid) {
			t.Errorf("left behind: %s", c)
		}
	}
	for _, pid := range bb.started {
		if comm, _, err := truthStat(pid); err == nil && comm == "sleep" {
			t.Errorf("left behind: pid %d (%s)", pid, comm)
		}
	}
}

// readlink is the kernel's answer for one link of pid, by busybox readlink.
func (bb *truthBox) readlink(t *testing.T, pid int, link string) truthRef {
	t.Helper()
	path := fmt.Sprintf("/proc/%d/ns/%s", pid, link)
	out, err := testutil.Output(testutil.Command(t, testutil.Quick, bb.path, "readlink", path))
	s := strings.TrimSpace(out)
	if err != nil {
		t.Fatalf("busybox readlink %s: %v", path, err)
	}
	typ, rest, ok := strings.Cut(s, ":[")
	ino, perr := strconv.ParseUint(strings.TrimSuffix(rest, "]"), 10, 64)
	if !ok || perr != nil || !strings.HasSuffix(rest, "]") || typ != truthLinkType(link) {
		t.Fatalf("busybox readlink %s: %q, want %s:[INODE]", path, s, truthLinkType(link))
	}
	return truthRef{typ, ino}
}

// truth reads the ten links of pid with busybox.
func (bb *truthBox) truth(t *testing.T, pid int) truthNS {
	t.Helper()
	ns := truthNS{}
	for _, l := range truthLinks {
		ns[l] = bb.readlink(t, pid, l)
	}
	return ns
}

// self is the test process: the namespaces nsinspect runs in, since the
// tests start it with no clone flags, so those of `self` in its arguments.
func (bb *truthBox) self(t *testing.T) *truthProc {
	t.Helper()
	return &truthProc{name: "test", what: "the test process, also nsinspect's self", pid: os.Getpid(), ns: bb.truth(t, os.Getpid())}
}

// truthStat is comm and state from /proc/PID/stat.
func truthStat(pid int) (comm string, state byte, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", 0, err
	}
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open || len(s) < end+3 {
		return "", 0, fmt.Errorf("/proc/%d/stat: %q", pid, s)
	}
	return s[open+1 : end], s[end+2], nil
}

// sleeper starts `busybox unshare FLAGS sleep 600` (with no flags, the
// sleep alone) and returns the sleep once it has exec'd: the unshare
// process itself, or with -f its child, whose host pid is read from
// /proc/PID/task/PID/children. helper is the unshare process with -f,
// else nil. Both are killed and reaped at cleanup, the child first, so
// that unshare reaps it and nothing is left for init.
func (bb *truthBox) sleeper(t *testing.T, name string, flags ...string) (sleep, helper *truthProc) {
	t.Helper()
	what := "busybox sleep 600"
	cmd := testutil.Command(t, testutil.Held, bb.sleep, "600")
	if len(flags) > 0 {
		what = "busybox unshare " + strings.Join(flags, " ") + " sleep 600"
		cmd = testutil.Command(t, testutil.Held, bb.path, append(append([]string{"unshare"}, flags...), bb.sleep, "600")...)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	// The -f child holds the stderr pipe too: never let Wait hang on it.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	pid := cmd.Process.Pid
	bb.started = append(bb.started, pid)
	// Not reaped before reap, so pid stays ours (a zombie at worst) and
	// its children list is its own.
	reaped := false
	reap := func() {
		if reaped {
			return
		}
		reaped = true
		// With a child, unshare -f waits for it: kill the child and let
		// unshare reap it, not init. Without one, pid is the sleep (or an
		// unshare -f that has not forked yet).
		kids := truthChildren(pid)
		for _, kid := range kids {
			syscall.Kill(kid, syscall.SIGKILL)
		}
		if len(kids) == 0 {
			cmd.Process.Kill()
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done: // unshare reaped its child and exited, as its child did
		case <-time.After(truthDeadline):
			t.Errorf("%s (pid %d) still runs %v after its child was killed; killing it", what, pid, truthDeadline)
			cmd.Process.Kill()
			<-done
		}
	}
	t.Cleanup(reap)
	fail := func(format string, args ...any) {
		t.Helper()
		reap()
		t.Fatalf("%s (pid %d): %s; its stderr: %q", what, pid, fmt.Sprintf(format, args...), stderr.String())
	}
	target := pid
	if slices.Contains(flags, "-f") {
		deadline := time.Now().Add(truthDeadline)
		for {
			if kids := truthChildren(pid); len(kids) == 1 {
				target = kids[0]
				bb.started = append(bb.started, target)
				break
			} else if len(kids) > 1 {
				fail("%d children %v, want one", len(kids), kids)
			}
			if _, state, err := truthStat(pid); err != nil || state == 'Z' {
				fail("exited before forking (%v)", err)
			}
			if time.Now().After(deadline) {
				fail("no child after %v", truthDeadline)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	deadline := time.Now().Add(truthDeadline)
	for {
		comm, state, err := truthStat(target)
		if err != nil || state == 'Z' {
			fail("pid %d exited before exec'ing sleep (%v)", target, err)
		}
		if comm == "sleep" {
			break
		}
		if time.Now().After(deadline) {
			fail("pid %d still runs %q after %v, not sleep", target, comm, truthDeadline)
		}
		time.Sleep(2 * time.Millisecond)
	}
	sleep = &truthProc{name: name, what: what, pid: target, ns: bb.truth(t, target)}
	if target != pid {
		helper = &truthProc{name: name + "-parent", what: strings.TrimSuffix(what, " sleep 600") + ", the parent of pid " + strconv.Itoa(target), pid: pid, ns: bb.truth(t, pid)}
	}
	return sleep, helper
}

// truthChildren lists the children of single-threaded pid (busybox).
func truthChildren(pid int) []int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// truthDiffers is the links whose namespace differs between a and b, by
// readlink.
func truthDiffers(a, b truthNS) []string {
	var out []string
	for _, l := range truthLinks {
		if a[l] != b[l] {
			out = append(out, l)
		}
	}
	return out
}

// runTruth runs nsinspect with args, wants exit 0 and decodes its JSON
// into v. A wrong exit code alone is an error and the JSON is still read,
// so that each wrong verdict is reported; no JSON at all ends the test.
// truth is what readlink says, for the message.
func runTruth(t *testing.T, v any, truth string, args ...string) {
	t.Helper()
	cmd := "nsinspect " + strings.Join(args, " ")
	r := nsinspect(t, args...)
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		t.Fatalf("%s: exit %d and no JSON on stdout (%v): %.500q\nstderr: %s\n%s", cmd, r.code, err, r.stdout, r.stderr, truth)
	}
	if r.code != 0 {
		t.Errorf("%s: exit %d, want 0\nstderr: %s\n%s", cmd, r.code, r.stderr, truth)
	}
}

// String is the ten links as readlink gave them.
func (ns truthNS) String() string {
	var b strings.Builder
	for _, l := range truthLinks {
		fmt.Fprintf(&b, " %s=%s", l, ns[l])
	}
	return b.String()
}

// says is what readlink gives for p, for messages.
func (p *truthProc) says() string { return fmt.Sprintf("readlink of %s:%s", p, p.ns) }

func truthWord(shared bool) string {
	if shared {
		return "shared"
	}
	return "separate"
}

func truthVerdict(b *bool) string {
	if b == nil {
		return "null (indeterminate)"
	}
	return truthWord(*b)
}

// The population: a process in new namespaces of each type busybox can
// make, pid 1 of a new pid namespace and its unshare, and two plain
// sleeps; then ls, compare and show against readlink.
func TestKernelTruth(t *testing.T) {
	bb := newTruthBox(t)
	self := bb.self(t)
	type made struct {
		name    string
		flags   []string
		new     []string // the links clone(2)/unshare(2) say are new, readlink must agree
		process *truthProc
	}
	plan := []*made{
		{name: "net+uts", flags: []string{"-n", "-u"}, new: []string{"net", "uts"}},
		{name: "ipc+mnt", flags: []string{"-i", "-m"}, new: []string{"ipc", "mnt"}},
		{name: "pid", flags: []string{"-p", "-f"}, new: []string{"pid", "pid_for_children"}},
		{name: "user", flags: []string{"-U", "-r"}, new: []string{"user"}},
		{name: "plain1"}, {name: "plain2"},
	}
	var pop, all []*truthProc // the sleeps; the sleeps and the -p -f unshare
	var helper *truthProc
	for _, m := range plan {
		p, h := bb.sleeper(t, m.name, m.flags...)
		m.process = p
		pop, all = append(pop, p), append(all, p)
		if h != nil {
			helper = h
			all = append(all, h)
		}
	}
	// The truth source itself: busybox made the namespaces asked for and
	// no other.
	for _, m := range plan {
		if got := truthDiffers(self.ns, m.process.ns); !slices.Equal(got, m.new) {
			t.Fatalf("truth source: readlink shows %s in new namespaces %v, want %v", m.process, got, m.new)
		}
	}
	if got := truthDiffers(self.ns, helper.ns); !slices.Equal(got, []string{"pid_for_children"}) {
		t.Fatalf("truth source: readlink shows %s in new namespaces %v, want [pid_for_children]", helper, got)
	}
	known := append([]*truthProc{self}, all...)

	// Each command runs in parallel subtests (GOMAXPROCS at a time): the
	// time is nsinspect starting, and the VMs have two CPUs.
	t.Run("ls", func(t *testing.T) { truthLs(t, self, known) })
	t.Run("ls-p", func(t *testing.T) {
		for _, p := range all {
			t.Run(p.name, func(t *testing.T) { t.Parallel(); truthLsP(t, p) })
		}
	})
	t.Run("compare", func(t *testing.T) {
		type pair struct {
			argA string
			a, b *truthProc
		}
		var pairs []pair
		for _, p := range pop {
			pairs = append(pairs, pair{"self", self, p}) // nsinspect's own process
		}
		for i, p := range pop {
			pairs = append(pairs, pair{"", p, pop[(i+1)%len(pop)]})
		}
		pairs = append(pairs, pair{"", self, pop[len(pop)-1]}, pair{"", helper, plan[2].process})
		for i, pr := range pairs {
			argA, name := pr.argA, pr.argA
			if argA == "" {
				argA, name = strconv.Itoa(pr.a.pid), pr.a.name
			}
			// Each pair turns a different link against the truth.
			flip := truthLinks[i%len(truthLinks)]
			t.Run(name+"~"+pr.b.name, func(t *testing.T) { t.Parallel(); truthCompare(t, argA, pr.a, pr.b, flip) })
		}
	})
	t.Run("show", func(t *testing.T) {
		for _, p := range all {
			t.Run(p.name, func(t *testing.T) { t.Parallel(); truthShow(t, p) })
		}
	})
}

// truthLsNS is the part of one `ls --json` namespace these tests read.
type truthLsNS struct {
	NS     uint64 `json:"ns"`
	Type   string `json:"type"`
	NProcs int    `json:"nprocs"`
	PID    *int   `json:"pid"`
}

// truthListing is one ls --json: by type and inode, and the types listed
// for each inode (for messages).
type truthListing struct {
	cmd   string
	byRef map[truthRef]truthLsNS
	types map[uint64][]string
}

func lsTruth(t *testing.T, truth string, args ...string) truthListing {
	t.Helper()
	l := truthListing{cmd: "nsinspect " + strings.Join(args, " "), byRef: map[truthRef]truthLsNS{}, types: map[uint64][]string{}}
	var doc struct {
		Namespaces []truthLsNS `json:"namespaces"`
	}
	runTruth(t, &doc, truth, args...)
	if doc.Namespaces == nil {
		t.Fatalf("%s: no \"namespaces\" array", l.cmd)
	}
	for _, n := range doc.Namespaces {
		ref := truthRef{n.Type, n.NS}
		if _, dup := l.byRef[ref]; dup {
			t.Errorf("%s: %s listed twice", l.cmd, ref)
		}
		l.byRef[ref] = n
		l.types[n.NS] = append(l.types[n.NS], n.Type)
	}
	return l
}

// lookup finds ref in the listing, or fails the test with what the listing
// has at that inode and what readlink said.
func (l truthListing) lookup(t *testing.T, ref truthRef, readlinkSays string) (truthLsNS, bool) {
	t.Helper()
	got, ok := l.byRef[ref]
	switch {
	case ok:
	case len(l.types[ref.ino]) > 0:
		t.Errorf("%s: lists inode %d as type %v, not %s; readlink gives %s", l.cmd, ref.ino, l.types[ref.ino], ref.typ, readlinkSays)
	default:
		t.Errorf("%s: does not list %s; readlink gives it %s", l.cmd, ref, readlinkSays)
	}
	return got, ok
}

// truthLs: every namespace of every known process is listed with its type,
// and at least as many processes as the known ones in it; a namespace only
// one known process is in, and not the test's own, has exactly that one.
func truthLs(t *testing.T, self *truthProc, known []*truthProc) {
	listed := lsTruth(t, self.says(), "ls", "--json")
	if len(listed.byRef) == 0 {
		t.Fatalf("nsinspect ls --json: exit 0 but no namespace at all; readlink shows %d processes of this test alone in %d namespaces, %s among them", len(known), len(truthLinks), self.ns["net"])
	}
	in := map[truthRef][]*truthProc{} // by a process's own links, what nprocs counts
	mine := map[truthRef]bool{}
	for _, l := range truthLinks {
		mine[self.ns[l]] = true
	}
	seen := map[truthRef]bool{}
	for _, p := range known {
		for _, l := range truthLinks {
			ref := p.ns[l]
			if !strings.HasSuffix(l, "_for_children") {
				in[ref] = append(in[ref], p)
			}
			if seen[ref] {
				continue
			}
			seen[ref] = true
			listed.lookup(t, ref, fmt.Sprintf("for ns/%s of %s", l, p))
		}
	}
	for ref, ps := range in {
		got, ok := listed.byRef[ref]
		if !ok {
			continue // reported above
		}
		if got.NProcs < len(ps) {
			t.Errorf("nsinspect ls --json: %s has nprocs %d; readlink shows %d processes in it: %v", ref, got.NProcs, len(ps), ps)
		}
		if len(ps) == 1 && !mine[ref] {
			pid := -1
			if got.PID != nil {
				pid = *got.PID
			}
			if got.NProcs != 1 || pid != ps[0].pid {
				t.Errorf("nsinspect ls --json: %s has nprocs %d, pid %d; readlink shows exactly one process in it, %s", ref, got.NProcs, pid, ps[0])
			}
		}
	}
}

// truthLsP: ls -p PID lists exactly the namespaces of its ten links.
func truthLsP(t *testing.T, p *truthProc) {
	listed := lsTruth(t, p.says(), "ls", "-p", strconv.Itoa(p.pid), "--json")
	want := map[truthRef]bool{}
	for _, l := range truthLinks {
		if !want[p.ns[l]] {
			want[p.ns[l]] = true
			listed.lookup(t, p.ns[l], fmt.Sprintf("for ns/%s of %s", l, p))
		}
	}
	for ref := range listed.byRef {
		if !want[ref] {
			t.Errorf("%s: lists %s, which readlink gives for none of the ten links of %s", listed.cmd, ref, p)
		}
	}
}

// truthCompare: compare A B --json says shared for a link exactly when
// readlink gives the same namespace for both, never null; --expect with
// the truth holds (exit 0) and with one link turned the other way fails
// (exit 1) naming it.
func truthCompare(t *testing.T, argA string, a, b *truthProc, flip string) {
	argB := strconv.Itoa(b.pid)
	cmd := fmt.Sprintf("compare --json %s %s", argA, argB)
	var rep struct {
		Resources []struct {
			Name     string        `json:"name"`
			Shared   *bool         `json:"shared"`
			Note     string        `json:"note"`
			Evidence truthEvidence `json:"evidence"`
		} `json:"resources"`
	}
	runTruth(t, &rep, a.says()+"\n"+b.says(), "compare", "--json", argA, argB)
	who := fmt.Sprintf("nsinspect %s (A: %s, B: %s)", cmd, a, b)
	got := map[string]int{}
	for i, r := range rep.Resources {
		got[r.Name] = i
	}
	var expect []string
	for _, l := range truthLinks {
		want := a.ns[l] == b.ns[l]
		says := fmt.Sprintf("readlink says %s (%s vs %s)", truthWord(want), a.ns[l], b.ns[l])
		expect = append(expect, l+"="+truthWord(want))
		i, ok := got[l]
		if !ok {
			t.Errorf("%s: %s: no such resource; %s", who, l, says)
			continue
		}
		r := rep.Resources[i]
		ev := r.Evidence
		var ia, ib uint64
		if ev.A != nil && ev.B != nil {
			ia, ib = ev.A.Ino, ev.B.Ino
		}
		if r.Shared == nil || *r.Shared != want || ia != a.ns[l].ino || ib != b.ns[l].ino {
			t.Errorf("%s: %s: nsinspect says %s with inodes %d and %d (note %q, evidence error %q); %s",
				who, l, truthVerdict(r.Shared), ia, ib, r.Note, ev.Error, says)
		}
	}

	spec := strings.Join(expect, ",")
	if r := nsinspect(t, "compare", argA, argB, "--expect", spec); r.code != 0 || r.stderr != "" {
		t.Errorf("nsinspect compare %s %s --expect %s (what readlink says): exit %d, want 0; stderr %q", argA, argB, spec, r.code, r.stderr)
	}
	want := a.ns[flip] == b.ns[flip]
	expect[slices.Index(truthLinks, flip)] = flip + "=" + truthWord(!want)
	wrong := strings.Join(expect, ",")
	r := nsinspect(t, "compare", argA, argB, "--expect", wrong)
	line := fmt.Sprintf("%s: expected %s, got %s", flip, truthWord(!want), truthWord(want))
	if r.code != 1 || !strings.HasPrefix(r.stderr, line) {
		t.Errorf("nsinspect compare %s %s --expect %s (%s turned against readlink's %s vs %s): exit %d, want 1 with %q; stderr %q",
			argA, argB, wrong, flip, a.ns[flip], b.ns[flip], r.code, line, r.stderr)
	}
}

// truthShow: show PID --json gives each link readlink's inode and type.
func truthShow(t *testing.T, p *truthProc) {
	cmd := "show --json " + strconv.Itoa(p.pid)
	var s struct {
		PID int `json:"pid"`
		NS  []struct {
			Link  string `json:"link"`
			Type  string `json:"type"`
			Inode uint64 `json:"ns"`
			Error string `json:"error"`
		} `json:"namespaces"`
	}
	runTruth(t, &s, p.says(), "show", "--json", strconv.Itoa(p.pid))
	if s.PID != p.pid {
		t.Errorf("nsinspect %s: pid %d, want %d", cmd, s.PID, p.pid)
	}
	got := map[string]int{}
	for i, n := range s.NS {
		got[n.Link] = i
	}
	for _, l := range truthLinks {
		i, ok := got[l]
		if !ok {
			t.Errorf("nsinspect %s: ns/%s missing; readlink says %s (%s)", cmd, l, p.ns[l], p)
			continue
		}
		n := s.NS[i]
		if n.Inode != p.ns[l].ino || n.Type != p.ns[l].typ || n.Error != "" {
			t.Errorf("nsinspect %s: ns/%s is %s:[%d] (error %q); readlink says %s (%s)", cmd, l, n.Type, n.Inode, n.Error, p.ns[l], p)
		}
	}
	if len(s.NS) != len(truthLinks) {
		t.Errorf("nsinspect %s: %d namespace links, readlink reads %d (%s)", cmd, len(s.NS), len(truthLinks), p)
	}
}

// clone experiments: every verdict is what clone(2) says for the flags,
// the inodes shown for parent and child agree with each verdict, and
// busybox unshare with the same namespace flags gives, by readlink, new
// namespaces for exactly the links nsinspect says are separate.
func TestKernelTruthClone(t *testing.T) {
	bb := newTruthBox(t)
	self := bb.self(t)
	for _, c := range []struct {
		flags   string
		new     []string // namespace links clone(2) says the child gets anew
		shared  []string // kcmp resources the flags share
		busybox []string // busybox unshare flags for the same namespaces
	}{
		{"CLONE_NEWNET|CLONE_FILES", []string{"net"}, []string{"files"}, []string{"-n"}},
		{"CLONE_NEWPID|CLONE_NEWUTS|CLONE_FS", []string{"pid", "pid_for_children", "uts"}, []string{"fs"}, []string{"-p", "-f", "-u"}},
	} {
		t.Run(c.flags, func(t *testing.T) {
			cmd := "clone '" + c.flags + "' --json"
			type nsEntry struct {
				Link string `json:"link"`
				Ino  uint64 `json:"ns"`
			}
			type side struct {
				PID        int       `json:"pid"`
				Namespaces []nsEntry `json:"namespaces"`
			}
			var rep struct {
				Errno     *string `json:"errno"`
				Parent    *side   `json:"parent"`
				Child     *side   `json:"child"`
				Resources []struct {
					Name     string        `json:"name"`
					Kind     string        `json:"kind"`
					Shared   *bool         `json:"shared"`
					Expected bool          `json:"expected"`
					Agree    bool          `json:"agree"`
					Note     string        `json:"note"`
					Evidence truthEvidence `json:"evidence"`
				} `json:"resources"`
				Disagreements []string `json:"disagreements"`
			}
			runTruth(t, &rep, "clone(2) says new namespaces for "+strings.Join(c.new, ", ")+", shared "+strings.Join(c.shared, ", "), "clone", c.flags, "--json")
			if rep.Errno != nil || len(rep.Disagreements) != 0 {
				t.Errorf("nsinspect %s: errno %v, disagreements %q; want none", cmd, truthErrno(rep.Errno), rep.Disagreements)
			}
			if rep.Parent == nil || rep.Child == nil {
				t.Errorf("nsinspect %s: no parent or child in the report", cmd)
			}
			inos := func(s *side) map[string]uint64 {
				m := map[string]uint64{}
				for _, n := range s.Namespaces {
					m[n.Link] = n.Ino
				}
				return m
			}
			var pIno, cIno map[string]uint64
			if rep.Parent != nil && rep.Child != nil {
				pIno, cIno = inos(rep.Parent), inos(rep.Child)
			}
			names := map[string]bool{}
			var separate []string
			for _, r := range rep.Resources {
				names[r.Name] = true
				isNS := slices.Contains(truthLinks, r.Name)
				want := slices.Contains(c.shared, r.Name) // kcmp: shared when its flag is given
				if isNS {
					want = !slices.Contains(c.new, r.Name) // namespace: separate when its CLONE_NEW* is given
				}
				wrong := r.Shared == nil || *r.Shared != want || r.Expected != want || !r.Agree
				inodes := ""
				if isNS {
					if r.Shared != nil && !*r.Shared {
						separate = append(separate, r.Name)
					}
					// Both sides are parked while they are read, so
					// their namespaces are alive and the inodes
					// comparable: the same pair in the evidence and in
					// each side's links, equal exactly when shared.
					var ea, eb uint64
					if ev := r.Evidence; ev.A != nil && ev.B != nil {
						ea, eb = ev.A.Ino, ev.B.Ino
					}
					p, ch := pIno[r.Name], cIno[r.Name]
					wrong = wrong || ea == 0 || eb == 0 || ea != p || eb != ch || r.Shared == nil || (ea == eb) != *r.Shared
					inodes = fmt.Sprintf(" with evidence inodes %d and %d, parent's and child's links %d and %d,", ea, eb, p, ch)
				}
				if wrong {
					t.Errorf("nsinspect %s: %s: nsinspect says %s%s expected %s, agree %v (note %q, evidence error %q); clone(2) says %s for %s",
						cmd, r.Name, truthVerdict(r.Shared), inodes, truthWord(r.Expected), r.Agree, r.Note, r.Evidence.Error, truthWord(want), c.flags)
				}
			}
			for _, n := range truthResources {
				if !names[n] {
					t.Errorf("nsinspect %s: resource %s missing", cmd, n)
				}
			}
			// The truth source: busybox unshare with the same namespace
			// flags, readlink against the test process.
			sleep, _ := bb.sleeper(t, "clone", c.busybox...)
			if got := truthDiffers(self.ns, sleep.ns); !slices.Equal(got, c.new) || !slices.Equal(got, separate) {
				t.Errorf("new namespaces for %s: readlink of %s against the test process shows %v, clone(2) says %v, nsinspect %s says %v",
					c.flags, sleep, got, c.new, cmd, separate)
			}
		})
	}
}

func truthErrno(e *string) string {
	if e == nil {
		return "none"
	}
	return *e
}

// unshare newnet,newuts: the links unshare(2) says change do, no other
// does, the inodes agree with that, and busybox unshare -n -u gives by
// readlink new namespaces for the same links.
func TestKernelTruthUnshare(t *testing.T) {
	bb := newTruthBox(t)
	self := bb.self(t)
	cmd := "unshare newnet,newuts --json"
	want := []string{"net", "uts"}
	type entry struct {
		Ino uint64 `json:"ns"`
	}
	var rep struct {
		Errno *string `json:"errno"`
		Links []struct {
			Link     string `json:"link"`
			Before   entry  `json:"before"`
			After    entry  `json:"after"`
			Changed  bool   `json:"changed"`
			Expected bool   `json:"expected"`
			Agree    bool   `json:"agree"`
		} `json:"links"`
		Disagreements []string `json:"disagreements"`
	}
	runTruth(t, &rep, "unshare(2) says net and uts change, no other link", "unshare", "newnet,newuts", "--json")
	if rep.Errno != nil || len(rep.Disagreements) != 0 {
		t.Errorf("nsinspect %s: errno %v, disagreements %q; want none", cmd, truthErrno(rep.Errno), rep.Disagreements)
	}
	var changed, links []string
	for _, l := range rep.Links {
		links = append(links, l.Link)
		exp := slices.Contains(want, l.Link)
		// The namespace before is the lab's, still alive after the call:
		// the inodes differ exactly when the link changed.
		if l.Changed != exp || l.Expected != exp || !l.Agree || l.Before.Ino == 0 || l.After.Ino == 0 || (l.Before.Ino != l.After.Ino) != l.Changed {
			t.Errorf("nsinspect %s: %s: nsinspect says changed %v with inodes %d before and %d after, expected %v, agree %v; unshare(2) says changed %v",
				cmd, l.Link, l.Changed, l.Before.Ino, l.After.Ino, l.Expected, l.Agree, exp)
		}
		if l.Changed {
			changed = append(changed, l.Link)
		}
	}
	if !slices.Equal(links, truthLinks) {
		t.Errorf("nsinspect %s: links %v, want the ten %v", cmd, links, truthLinks)
	}
	sleep, _ := bb.sleeper(t, "unshare", "-n", "-u")
	if got := truthDiffers(self.ns, sleep.ns); !slices.Equal(got, want) || !slices.Equal(got, changed) {
		t.Errorf("new namespaces for newnet,newuts: readlink of %s against the test process shows %v, unshare(2) says %v, nsinspect %s says %v",
			sleep, got, want, cmd, changed)
	}
}
