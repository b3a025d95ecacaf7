package discover

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/bpfiter"
	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/namespaces"
)

// AutoThreads is the host size, in threads, from which Auto runs BPF:
// below it the /proc walk costs less than the BPF source's fixed cost
// (decoding the kernel's BTF, CO-RE relocation, the verifier: about 35
// ms on Linux 6.18, 65 ms before the programs' loops became calls of
// global functions). Threads, not processes, because both sources pay
// per task: iter/task visits every thread, and the walk reads the links
// of every thread of a multi-threaded process; /proc/loadavg counts them
// for free.
//
// Measured by bench/ls-vs-lsns.sh on a 2-CPU VM (Linux 6.18, docs/speed.md
// "Which source ls runs"): `ls --json` costs the same CPU time through
// either source at about 500 threads (50.7 and 50.1 ms at 508), and the
// same wall time at about 750 (the walk runs on both CPUs, the BPF
// source mostly on one); at 1,038 BPF is cheaper by both (46 against 62
// ms wall). AutoThreads lies between the two crossovers.
const AutoThreads = 600

// Auto runs the cheapest source that gives the full answer for this host,
// decided from what is free to know, and says in the model's Note when it
// wanted BPF and could not run it.
//
// The /proc walk runs when the host has fewer than AutoThreads threads,
// the view needs nothing only BPF reads (Options.Objects), nsinspect runs
// in the initial pid namespace (from a pid namespace of its own,
// NS_GET_PARENT answers EPERM above it, so the walk cannot show its
// ancestors; the kernel's pointers can), and /proc is not expected to
// refuse a read: PID 1's ns links are readable. If the
// walk was refused a task's links or an fd table anyway (another user's
// processes without CAP_SYS_PTRACE, a task with capabilities nsinspect
// lacks), the kernel's structs hold what it missed, and the pass starts
// over with BPF where BPF can run. Otherwise BPF runs, falling back to
// /proc on any failure. Auto is meant to be a pass's only source: starting
// over drops what the pass recorded before.
//
// Where the kernel has listns(2) (Linux 6.19) and this process may see
// every namespace (ListnsUsable), Auto then asks listns once and adds
// each active namespace the pass missed, as the Listns source does
// (marked model.FromListns), so that it lists at least what listns
// does. The model's Source stays the pass's, proc or bpf. That costs one
// listns(2) call per 512 namespaces and a map of the ids found when the
// pass missed nothing (BenchmarkAutoListns), an open_by_handle_at(2) and
// the climb's ioctls for each namespace it missed.
type Auto struct {
	// loadavg reads /proc/loadavg; nil reads the real one.
	loadavg func() ([]byte, error)
}

// Name is "auto".
func (Auto) Name() string { return "auto" }

// Discover runs the source that preferBPF picks, then adds what
// listns(2) lists that it missed (addListed), where listns gives the
// whole list.
func (a Auto) Discover(p *Pass) error {
	if err := a.pass(p); err != nil {
		return err
	}
	if ListnsUsable() != nil {
		return nil
	}
	// The pass is the answer; listns only adds to it. Its failure is
	// said, not fatal.
	if _, _, err := p.addListed(); err != nil {
		p.note = joinNote(p.note, "listns(2) failed ("+err.Error()+"); the "+p.source+" pass's answer only")
	}
	return nil
}

// pass runs the /proc walk or BPF, as preferBPF picks.
func (a Auto) pass(p *Pass) error {
	if !a.facts(p).preferBPF(p.opt) {
		if err := (Proc{}).Discover(p); err != nil {
			return err
		}
		p.source = "proc"
		if !refused(p) {
			return nil
		}
		if err := bpfiter.Probe(); err != nil {
			p.note = "BPF unavailable (" + err.Error() + "); read /proc instead"
			return nil
		}
		p.reset()
	}
	return bpfOrProc(p)
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// bpfOrProc runs BPF, or /proc with a note where BPF fails.
func bpfOrProc(p *Pass) error {
	b, err := readKernel(p, nil)
	if err == nil {
		b.record()
		p.source = "bpf"
		return nil
	}
	why := "BPF unavailable"
	if !errors.Is(err, bpfiter.ErrUnavailable) {
		why = "BPF failed"
	}
	p.source, p.note = "proc", why+" ("+err.Error()+"); read /proc instead"
	return Proc{}.Discover(p)
}

// autoFacts is what Auto knows before it runs a source.
type autoFacts struct {
	threads    int   // tasks on the host, kernel threads included
	threadsErr error // why threads is unknown
	// initRefused: reading PID 1's ns links was refused, as a sandbox's
	// init refuses even root; the walk would be refused it too.
	initRefused bool
	// childPidNS: nsinspect runs in a pid namespace other than the
	// initial one, whose ancestors only BPF reads.
	childPidNS bool
}

// preferBPF is Auto's choice: BPF where the host is large (or its size
// unknown), where the view needs the kernel objects only BPF reads, and
// where /proc is expected to refuse or cannot reach what BPF would read.
func (f autoFacts) preferBPF(opt Options) bool {
	return opt.Objects || f.threadsErr != nil || f.threads >= AutoThreads || f.initRefused || f.childPidNS
}

// facts gathers autoFacts: one read of /proc/loadavg, one readlink and
// one stat.
func (a Auto) facts(p *Pass) autoFacts {
	read := a.loadavg
	if read == nil {
		read = func() ([]byte, error) { return os.ReadFile(p.procRoot() + "/loadavg") }
	}
	var f autoFacts
	if b, err := read(); err != nil {
		f.threadsErr = err
	} else {
		f.threads, f.threadsErr = parseLoadavgThreads(string(b))
	}
	_, err := os.Readlink(p.procRoot() + "/1/ns/net")
	f.initRefused = errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM)
	// Our own pid namespace, through the /proc of our own: Options.Proc
	// may be another pid namespace's, where "self" is nobody.
	var st unix.Stat_t
	f.childPidNS = unix.Stat("/proc/self/ns/pid", &st) == nil && st.Ino != namespaces.ProcPIDInitIno
	return f
}

// parseLoadavgThreads returns the number of threads on the host from
// /proc/loadavg, the denominator of its fourth field ("1/215": runnable
// over all tasks, nr_threads, kernel threads included; proc_loadavg(5)).
func parseLoadavgThreads(s string) (int, error) {
	f := strings.Fields(s)
	if len(f) < 4 {
		return 0, fmt.Errorf("/proc/loadavg %q: no fourth field (RUNNABLE/THREADS)", s)
	}
	_, total, ok := strings.Cut(f[3], "/")
	n, err := strconv.Atoi(total)
	if !ok || err != nil || n <= 0 {
		return 0, fmt.Errorf("/proc/loadavg %q: fourth field %q is not RUNNABLE/THREADS", s, f[3])
	}
	return n, nil
}

// refused reports whether the pass's /proc reads were refused anything
// the BPF source reads from the kernel's structs instead: a process's or
// a thread's ns links, an fd table. Mount tables BPF reads through /proc
// too.
func refused(p *Pass) bool {
	var d model.Denied
	for _, f := range p.found {
		d.Add(f.denied)
	}
	return d.NSLinks+d.Threads+d.FDs > 0
}

// reset drops everything the pass recorded and the namespaces it holds.
func (p *Pass) reset() {
	caller := p.reg.caller
	p.reg.close()
	p.reg = newRegistry()
	p.reg.caller = caller
	p.found = nil
	p.source, p.note = "", ""
}
