package tracer

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nsinspect/nsinspect/features"
	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/namespaces"
)

// kprobesExpected is the kernel's own word on whether the tracer's
// kprobe can attach: /proc/kallsyms has register_kprobe (CONFIG_KPROBES)
// and proc_free_inum (the function probed). Debian's kernels of the
// matrix have both; the project's 6.18 VM kernel has no kprobes.
func kprobesExpected(t *testing.T) bool {
	syms, err := os.ReadFile("/proc/kallsyms")
	if err != nil {
		t.Fatal(err)
	}
	return regexp.MustCompile(`(?m) register_kprobe$`).Match(syms) && regexp.MustCompile(`(?m) proc_free_inum$`).Match(syms)
}

// Every namespace an unshare makes dies once its last holder is gone,
// and the tracer reports each death once, with the type and inode its
// birth had: `unshare -U -m -u -i -n -C -T -p -f true` makes eight
// namespaces (pid and time as the children's), freed on every path the
// kernel has: at exit (mnt, uts, time, cgroup), when the last process
// is reaped (pid), later (ipc), and from queued work (net, user). Where the
// kernel takes no kprobe, the tracer says so in Gaps and reports none.
func TestNamespaceDeaths(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireCommand(t, "unshare", "util-linux")
	tr, err := Open(Options{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	want := kprobesExpected(t)
	p := features.Probe(features.Kprobes)
	t.Logf("kprobes expected: %v; features: %s; the tracer sees deaths: %v; gaps %q", want, p.Evidence, tr.SeesDeaths(), tr.Gaps())
	if p.Present == nil || *p.Present != want {
		t.Errorf("features' kprobe probe (%s) disagrees with /proc/kallsyms (register_kprobe and proc_free_inum: %v)", p.Evidence, want)
	}
	if !want {
		if tr.SeesDeaths() || !strings.HasPrefix(tr.deathGap, "namespace deaths (") {
			t.Fatalf("no kprobes here, and the tracer sees deaths %v with gap %q", tr.SeesDeaths(), tr.deathGap)
		}
		return
	}
	if !tr.SeesDeaths() {
		t.Fatalf("the kernel has kprobes and proc_free_inum, and the tracer sees no deaths: %s", tr.deathGap)
	}
	evs := run(t, tr, "unshare", "-U", "-m", "-u", "-i", "-n", "-C", "-T", "-p", "-f", "true")
	var un *Event
	for _, e := range evs {
		if e.Kind == Unshare && un == nil {
			un = e
		}
	}
	if un == nil || un.Errno != 0 {
		t.Fatalf("no unshare that succeeded among %d events", len(evs))
	}
	born := map[uint64]namespaces.Type{}
	for i, l := range namespaces.Links {
		if a, b := un.A.NS[i], un.B.NS[i]; un.Flags&uint64(l.Type) != 0 && b != a {
			born[b.Ino] = l.Type
		}
	}
	if len(born) != 8 {
		t.Fatalf("unshare of eight types made %d namespaces: %v", len(born), born)
	}
	died := map[uint64]int{}
	check := func(evs []*Event) {
		for _, e := range evs {
			if e.Kind != Death {
				continue
			}
			if typ, ok := born[e.NS.Ino]; ok {
				died[e.NS.Ino]++
				t.Logf("%v %d died %.1f ms after the unshare", typ, e.NS.Ino, float64(e.Boottime-un.Boottime)/1e6)
				if e.NSType != typ {
					t.Errorf("death of %d: type %v, born %v", e.NS.Ino, e.NSType, typ)
				}
			}
		}
	}
	check(evs)
	// net and user namespaces die in a workqueue after the exit, a pid
	// namespace after an RCU grace period on some kernels: read on.
	for deadline := time.Now().Add(time.Minute); len(died) < len(born) && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
		check(flushed(t, tr))
	}
	for ino, typ := range born {
		if died[ino] != 1 {
			t.Errorf("%v namespace %d: %d deaths reported, want 1", typ, ino, died[ino])
		}
	}
}

// nsNames forgets a number at its death, learns it again from a later
// event, and stays within its bound.
func TestNSNames(t *testing.T) {
	n := newNSNames(2)
	n.learn(10, namespaces.Net, 5)
	if v, ok := n.forget(10); !ok || v.typ != namespaces.Net || v.id != 5 {
		t.Errorf("forget(10) = %+v, %v", v, ok)
	}
	if _, ok := n.forget(10); ok {
		t.Error("a number was forgotten twice")
	}
	n.learn(10, namespaces.UTS, 0)
	n.learn(11, namespaces.IPC, 0)
	n.learn(11, namespaces.IPC, 0)
	if len(n.byIno) != 2 {
		t.Errorf("%d numbers kept", len(n.byIno))
	}
	n.learn(12, namespaces.Mount, 0)
	if len(n.byIno) != 2 {
		t.Errorf("past the bound: %d numbers kept, want 2", len(n.byIno))
	}
	if v, ok := n.forget(12); !ok || v.typ != namespaces.Mount {
		t.Errorf("the newest number was dropped: %+v %v", v, ok)
	}
	var none *nsNames // a tracer without deaths
	none.learn(10, namespaces.Net, 0)
	none.seed(11, namespaces.Net, 0, 1)
	if _, ok := none.forget(10); ok {
		t.Error("a nil nsNames remembered a number")
	}
}

// decode reports a freed number as a death only when an event named it
// as a namespace (a task's link, or a setns fd), with that type, once;
// a /proc entry's number, or one never named, is no event.
func TestDecodeDeath(t *testing.T) {
	tr := &Tracer{}
	tr.newIDs(maxIDs)
	net := slices.IndexFunc(namespaces.Links, func(l namespaces.Link) bool { return l.Name == "net" })
	un := traceNstEvent{Kind: uint32(Unshare)}
	un.A.NsInum[net], un.B.NsInum[net] = 4026531840, 4026532300
	un.B.NsId[net] = 77
	if _, err := tr.decode(raw(&un)); err != nil {
		t.Fatal(err)
	}
	setns := traceNstEvent{Kind: uint32(Setns), FdKind: uint32(FDNSFS), FdNsType: uint32(namespaces.UTS), FdNsInum: 4026532400}
	if _, err := tr.decode(raw(&setns)); err != nil {
		t.Fatal(err)
	}
	freed := func(ino uint32) *Event {
		t.Helper()
		r := traceNstInumFreed{Kind: inumFreed, Inum: ino, Ktime: 5}
		e, err := tr.decode(raw(&r))
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	if e := freed(4026532300); e == nil || e.Kind != Death || e.NSType != namespaces.Net || e.NS != (NSRef{4026532300, 77}) || e.Boottime != 5 {
		t.Errorf("the new net namespace freed: %+v", e)
	}
	if e := freed(4026532300); e != nil {
		t.Errorf("a number freed again (now a /proc entry's): %+v", e)
	}
	if e := freed(4026532400); e == nil || e.NSType != namespaces.UTS {
		t.Errorf("the namespace a setns fd named, freed: %+v", e)
	}
	if e := freed(4026532999); e != nil {
		t.Errorf("a number no event named: %+v", e)
	}
	// Seeded by a pass that ended at 100: a number freed by then may
	// have been another namespace's; one an event named since is the
	// event's.
	tr.Seed([]namespaces.NS{{Type: namespaces.IPC, Ino: 4026532500}, {Type: namespaces.IPC, Ino: 4026532501}, {Type: namespaces.Mount, Ino: 4026532300}}, 100)
	r := traceNstInumFreed{Kind: inumFreed, Inum: 4026532500, Ktime: 100}
	if e, _ := tr.decode(raw(&r)); e != nil {
		t.Errorf("a seeded number freed before the pass ended: %+v", e)
	}
	r = traceNstInumFreed{Kind: inumFreed, Inum: 4026532501, Ktime: 101}
	if e, _ := tr.decode(raw(&r)); e == nil || e.NSType != namespaces.IPC {
		t.Errorf("a seeded namespace freed after the pass: %+v", e)
	}
	if _, err := tr.decode(raw(&un)); err != nil { // names net 4026532300 again
		t.Fatal(err)
	}
	r = traceNstInumFreed{Kind: inumFreed, Inum: 4026532300, Ktime: 50}
	if e, _ := tr.decode(raw(&r)); e == nil || e.NSType != namespaces.Net {
		t.Errorf("a number an event named after the seeding: %+v, want net's death", e)
	}
	if _, err := tr.decode(raw(&un)[:4]); err == nil {
		t.Error("a short event was accepted")
	}
	short := traceNstInumFreed{Kind: inumFreed}
	if _, err := tr.decode(raw(&short)[:8]); err == nil {
		t.Error("a short inode record was accepted")
	}
}
