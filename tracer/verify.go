package tracer

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// ErrNotRun: the kernel attached a program of the tracer and did not
// run it (see verifyCalls).
var ErrNotRun = errors.New("the kernel did not run an attached program of the tracer")

// verifyTries is how many times verifyCalls attaches a program the
// kernel did not run before it gives up.
const verifyTries = 3

// probeSlots are the programs verifyCalls checks, by the slot of trace.bpf.c's
// seen map their unshare sets: the entry program and the return program.
var probeSlots = [2]string{"entry", "return"}

// probedIndex returns, for the system call programs names (in t.calls
// order), the indexes into t.links of the two that see an unshare: the
// raw tracepoints' sys_enter and sys_exit, or fentry's unshare pair.
func probedIndex(names []string) (idx [2]int, ok bool) {
	found := 0
	for i, n := range names {
		switch n {
		case "nst_sys_enter", "nst_in_unshare":
			idx[0] = len(baseLinks) + i
		case "nst_sys_exit", "nst_out_unshare":
			idx[1] = len(baseLinks) + i
		default:
			continue
		}
		found++
	}
	return idx, found == 2
}

// baseLinks name the programs every tracer attaches first, in t.links
// order (the system call programs follow).
var baseLinks = [...]string{"nst_newtask", "nst_exit", "nst_exec"}

// verifyCalls makes sure the kernel runs the system call programs that
// see unshare, setns and exec: on each CPU this process may run on, an
// unshare(0) of its own (which changes nothing) must be seen by the
// entry and the return program. A program that was not is attached
// again, up to verifyTries times.
//
// Why: on arm64 (Debian's 6.1 and 7.3 under QEMU) the kernel now and
// then attaches the first of the two raw syscall tracepoint programs and
// never runs it (recursion_misses 0, run_cnt 0 for the tracer's life,
// the other program running), so every unshare, setns and exec would be
// missing without a word. Attaching it again made it run each time it
// was seen. Nothing here depends on why.
//
// Where the unshare(0) itself is refused (a seccomp profile such as
// Docker's default, without CAP_SYS_ADMIN, answers EPERM before the
// entry program could see it), nothing can be checked: the tracer runs,
// and Gaps says that its programs were not checked and why.
func (t *Tracer) verifyCalls() error {
	cpus, err := allowedCPUs()
	if err != nil {
		return err
	}
	for try := 1; ; try++ {
		missed, err := t.probeCalls(cpus)
		var refused *probeRefused
		if errors.As(err, &refused) {
			t.gaps = append(t.gaps, fmt.Sprintf("unshare, setns and exec, if the kernel did not run the programs that see them (not checked: %v)", refused))
			return nil
		}
		if err != nil {
			return err
		}
		if len(missed[0]) == 0 && len(missed[1]) == 0 {
			return nil
		}
		var which []string
		for slot, on := range missed {
			if len(on) > 0 {
				which = append(which, fmt.Sprintf("%s program (%v) on CPUs %v", probeSlots[slot], t.calls[t.probed[slot]-len(baseLinks)], on))
			}
		}
		if try == verifyTries {
			return fmt.Errorf("%w: its %s, for an unshare(0) of nsinspect's own, %d times attached; unshare, setns and exec events would be missing, so nothing is traced", ErrNotRun, strings.Join(which, " and "), verifyTries)
		}
		t.reattached++
		for slot, on := range missed {
			if len(on) == 0 {
				continue
			}
			i := t.probed[slot]
			if err := t.links[i].Close(); err != nil {
				return fmt.Errorf("detaching the %s program to attach it again: %w", probeSlots[slot], err)
			}
			l, err := link.AttachTracing(link.TracingOptions{Program: t.calls[i-len(baseLinks)]})
			if err != nil {
				t.links[i] = nil
				return fmt.Errorf("attaching the %s program again: %w", probeSlots[slot], err)
			}
			t.links[i] = l
		}
	}
}

// probeRefused: the probe's own unshare(0) failed, so nothing was
// checked.
type probeRefused struct{ err error }

func (p *probeRefused) Error() string {
	return fmt.Sprintf("nsinspect's own unshare(0) was refused: %v", p.err)
}

// probeCall and pinTo are the probe's system calls (tests replace them).
var (
	probeCall = func() error { return unix.Unshare(0) }
	pinTo     = func(cpu int) error {
		var set unix.CPUSet
		set.Set(cpu)
		return unix.SchedSetaffinity(0, &set)
	}
)

// probeCalls makes an unshare(0) on each CPU of cpus, from a thread
// pinned there, and returns the CPUs where the entry and the return
// programs did not see it. A CPU the thread cannot be moved to (gone
// offline, or outside a cpuset since cpus was read) is left out; where
// none could be, one unshare(0) is made wherever the thread runs, and a
// program must have seen it on some CPU. The error is a *probeRefused
// when the unshare(0) itself failed.
func (t *Tracer) probeCalls(cpus []int) (missed [2][]int, err error) {
	n, err := ebpf.PossibleCPU()
	if err != nil {
		return missed, fmt.Errorf("counting the possible CPUs for the tracer's probe map: %w", err)
	}
	zero := make([]uint64, n)
	for slot := range probeSlots {
		if err := t.objs.Seen.Put(uint32(slot), zero); err != nil {
			return missed, fmt.Errorf("clearing the tracer's probe map: %w", err)
		}
	}
	var probed []int
	done := make(chan error)
	go func() {
		// The thread ends with this goroutine, still locked: its
		// changed affinity goes with it.
		runtime.LockOSThread()
		for _, cpu := range cpus {
			if pinTo(cpu) != nil {
				continue
			}
			probed = append(probed, cpu)
			if err := probeCall(); err != nil {
				done <- &probeRefused{err}
				return
			}
		}
		if len(probed) == 0 {
			if err := probeCall(); err != nil {
				done <- &probeRefused{err}
				return
			}
		}
		done <- nil
	}()
	if err := <-done; err != nil {
		return missed, err
	}
	for slot := range probeSlots {
		var per []uint64
		if err := t.objs.Seen.Lookup(uint32(slot), &per); err != nil {
			return missed, fmt.Errorf("reading the tracer's probe map: %w", err)
		}
		if len(probed) == 0 {
			if !slices.Contains(per, 1) {
				missed[slot] = []int{-1} // on whichever CPU the thread ran
			}
			continue
		}
		for _, cpu := range probed {
			if cpu >= len(per) || per[cpu] == 0 {
				missed[slot] = append(missed[slot], cpu)
			}
		}
	}
	return missed, nil
}

// allowedCPUs are the CPUs this process may run on.
func allowedCPUs() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("reading this process's CPU affinity: %w", err)
	}
	var cpus []int
	for cpu := 0; cpu < len(set)*64; cpu++ {
		if set.IsSet(cpu) {
			cpus = append(cpus, cpu)
		}
	}
	return cpus, nil
}
