package tracer

import (
	"fmt"
	"os"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/nsinspect/nsinspect/internal/linux"
	"github.com/nsinspect/nsinspect/namespaces"
)

// deathFunc is the kernel function every namespace's free ends in:
// ns_free_inum() calls it with the namespace's inode number (5.10 to
// 6.17), and so does __ns_common_free() (6.18+).
const deathFunc = "proc_free_inum"

// deathSpec takes the kprobe program out of spec, which the tracer then
// loads without it, and returns a spec of that program alone (sharing
// spec's maps by name): a kernel without kprobes (CONFIG_KPROBES off, or
// lockdown) must not cost the rest.
func deathSpec(spec *ebpf.CollectionSpec) *ebpf.CollectionSpec {
	p := spec.Programs["nst_free_inum"]
	delete(spec.Programs, "nst_free_inum")
	if p == nil {
		return nil
	}
	one := spec.Copy()
	one.Programs = map[string]*ebpf.ProgramSpec{"nst_free_inum": p.Copy()}
	return one
}

// loadDeaths loads the kprobe on proc_free_inum() with the loaded
// tracer's ring buffer and counters, and attaches it. Where the kernel
// refuses, it returns the gap: namespace deaths are not seen, and the
// rest of the tracer works.
func (t *Tracer) loadDeaths(spec *ebpf.CollectionSpec, opts *ebpf.CollectionOptions) (gap string) {
	if spec == nil {
		return "namespace deaths (the tracer's object has no program for them)"
	}
	// Only through the kprobe event source (perf_event_open, 4.17+),
	// whose probe goes with its fd: never an entry in tracefs's
	// kprobe_events, which a SIGKILL would leave behind.
	if _, err := os.Stat(linux.KprobePMU); err != nil {
		return "namespace deaths (this kernel has no kprobes: no kprobe event source in /sys/bus/event_source/devices)"
	}
	o := *opts
	o.MapReplacements = map[string]*ebpf.Map{"events": t.objs.Events, "lost": t.objs.Lost}
	var p struct {
		Prog *ebpf.Program `ebpf:"nst_free_inum"`
	}
	if err := spec.LoadAndAssign(&p, &o); err != nil {
		return fmt.Sprintf("namespace deaths (the kernel did not load a kprobe program: %s)", oneLine(err))
	}
	probe, err := linux.AttachKprobe(p.Prog.FD(), deathFunc)
	if err != nil {
		p.Prog.Close()
		return fmt.Sprintf("namespace deaths (no kprobe on %s: %s)", deathFunc, oneLine(err))
	}
	t.deaths, t.deathProbe = p.Prog, probe
	return ""
}

// Seed tells the tracer the namespaces a discovery pass found alive,
// which ended at boottime until (CLOCK_BOOTTIME ns): their deaths are
// then reported too, not only those of namespaces an event named (watch
// and serve see namespaces that existed before they started die). A
// number freed before until is not reported: it may be the death of
// the namespace the pass found, or of an earlier one with that number.
// Call it before the first Read.
func (t *Tracer) Seed(found []namespaces.NS, until uint64) {
	for _, ns := range found {
		if ns.Ino != 0 && ns.Ino <= 0xffffffff {
			t.names.seed(uint32(ns.Ino), ns.Type, ns.ID, until)
		}
	}
}

// SeesDeaths reports whether the tracer reports namespace deaths: the
// kernel took its kprobe on proc_free_inum().
func (t *Tracer) SeesDeaths() bool { return t.deaths != nil }

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }
