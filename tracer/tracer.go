package tracer

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/features"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/bpfload"
	"github.com/nsinspect/nsinspect/internal/taskobj"
)

// ErrUnsupported: the kernel lacks what the tracer needs (a BPF ring
// buffer: Linux 5.8).
var ErrUnsupported = errors.New("the tracer needs Linux 5.8 or later (BPF ring buffer)")

// ErrUnavailable: the tracer cannot be loaded here: no privilege, no
// kernel BTF, or lockdown.
var ErrUnavailable = errors.New("BPF tracing unavailable")

var errNoCaps = &reason{"tracing needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN (run as root)", ErrUnavailable}

// reason is an error that says only why, and matches its kind.
type reason struct {
	why  string
	kind error
}

func (r *reason) Error() string { return r.why }
func (r *reason) Unwrap() error { return r.kind }

// Options choose what is traced.
type Options struct {
	// Follow traces only the processes this one starts after Open, and
	// their descendants. Without it, every task the caller's pid
	// namespace can see is traced, except this process itself.
	Follow bool
	// Hooks chooses the programs on the system calls: the raw syscall
	// tracepoints ("" or HooksRawTracepoints: every call seen, a
	// seccomp refusal included, at a cost to every system call of the
	// machine), or fentry and fexit (HooksFentry: only the calls that
	// reach their function, at no cost to the others; Open fails with
	// ErrNoTrampolines where the kernel cannot attach them).
	Hooks Hooks
}

// ErrNoTrampolines: Options.Hooks asked for fentry and fexit, and the
// kernel cannot attach them (no BPF trampolines for kernel functions: arm64
// before 6.4; or a
// kernel that refuses them). It matches ErrUnavailable.
var ErrNoTrampolines = fmt.Errorf("%w: the kernel cannot attach fentry and fexit programs (BPF trampolines)", ErrUnavailable)

// Tracer holds the attached programs. Close detaches them.
type Tracer struct {
	objs  objects
	calls []*ebpf.Program // the system call programs of hooks
	// probed are the indexes in links of the programs that see an
	// unshare on entry and on return (verifyCalls); reattached counts
	// the times verifyCalls attached them again.
	probed     [2]int
	reattached int
	hooks      Hooks
	gaps       []string // see Gaps
	links      []link.Link
	rd         *ringbuf.Reader
	pacer      pacer
	ids        [taskobj.Count]*idTable
	names      *nsNames
	// deaths is the kprobe program on proc_free_inum(), nil where the
	// kernel took none (see loadDeaths).
	deaths     *ebpf.Program
	deathProbe *os.File // the kprobe's perf event, which holds it attached
	deathGap   string   // why deaths is nil
}

// Open loads and attaches the programs. Errors that mean "not here" wrap
// ErrUnavailable (privilege, BTF, lockdown, RLIMIT_MEMLOCK) or
// ErrUnsupported (kernel too old).
func Open(opts Options) (*Tracer, error) {
	if !bpfload.HasCaps() {
		return nil, errNoCaps
	}
	if why := bpfload.Refusal(); why != "" {
		return nil, &reason{why, ErrUnavailable}
	}
	// Before 5.11 even the probe's map is charged to RLIMIT_MEMLOCK, per
	// user: other root processes' maps can use up the usual 64 KiB.
	restore, err := bpfload.RaiseMemlock()
	if err != nil {
		return nil, fmt.Errorf("%w: BPF memory is charged to RLIMIT_MEMLOCK on this kernel (before Linux 5.11), which could not be raised: %w", ErrUnavailable, err)
	}
	defer restore()
	if err := features.HaveMapType(ebpf.RingBuf); err != nil {
		if errors.Is(err, ebpf.ErrNotSupported) {
			return nil, fmt.Errorf("%w (this is Linux %s)", ErrUnsupported, bpfload.Release())
		}
		return nil, fmt.Errorf("probing for BPF ring buffers: %w", err)
	}
	spec, err := bpfload.Object(traceObject)
	if err != nil {
		return nil, fmt.Errorf("reading the embedded BPF object: %w", err)
	}
	ino, level, err := pidNamespace()
	if err != nil {
		return nil, err
	}
	var key [2]uint64
	if _, err := rand.Read(unsafe.Slice((*byte)(unsafe.Pointer(&key)), 16)); err != nil {
		return nil, fmt.Errorf("drawing the object-id key: %w", err)
	}
	follow := uint32(0)
	if opts.Follow {
		follow = 1
	}
	for name, v := range map[string]any{
		"hash_key": key, "follow": follow, "tracer_tgid": uint32(os.Getpid()),
		"reader_pidns_inum": ino, "reader_level": level,
		"nr_unshare": int64(unix.SYS_UNSHARE), "nr_setns": int64(unix.SYS_SETNS),
		"nr_clone": int64(unix.SYS_CLONE), "nr_clone3": int64(unix.SYS_CLONE3),
		"nr_fork": nrFork, "nr_vfork": nrVfork,
		"nr_execve": int64(unix.SYS_EXECVE), "nr_execveat": int64(unix.SYS_EXECVEAT),
	} {
		if err := spec.Variables[name].Set(v); err != nil {
			return nil, fmt.Errorf("setting %s: %w", name, err)
		}
	}
	cache := btf.NewCache()
	kernel, err := cache.Kernel()
	if err != nil {
		return nil, fmt.Errorf("%w: reading the kernel's BTF: %w", ErrUnavailable, err)
	}
	t := &Tracer{}
	load := &ebpf.CollectionOptions{Cache: cache, Programs: ebpf.ProgramOptions{KernelTypes: kernel}}
	hooks := opts.Hooks
	if hooks == "" {
		hooks = HooksRawTracepoints
	}
	if err = t.load(spec, hooks, load); errors.Is(err, ErrNotRun) {
		return nil, err
	}
	if err != nil && hooks == HooksFentry {
		// cilium/ebpf's hint on EPERM is about RLIMIT_MEMLOCK, which the
		// tracer has raised already where the kernel charges it.
		why := strings.ReplaceAll(err.Error(), " (MEMLOCK may be too low, consider rlimit.RemoveMemlock)", "")
		return nil, fmt.Errorf("%w: %s", ErrNoTrampolines, strings.Join(strings.Fields(why), " "))
	}
	if err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("the kernel's verifier rejected nsinspect's tracer on Linux %s (a bug, please report it with `nsinspect features`): %w", bpfload.Release(), err)
		}
		return nil, fmt.Errorf("loading the tracer: %w", err)
	}
	if t.rd, err = ringbuf.NewReader(t.objs.Events); err != nil {
		t.Close()
		return nil, fmt.Errorf("opening the ring buffer: %w", err)
	}
	t.newIDs(maxIDs)
	if t.deaths == nil {
		t.names = nil // nothing to tell deaths by: no map writes per event
	}
	return t, nil
}

// Close detaches and unloads everything. Read then returns os.ErrClosed.
func (t *Tracer) Close() error {
	var errs []error
	if t.rd != nil {
		errs = append(errs, t.rd.Close())
	}
	errs = append(errs, t.unload())
	return errors.Join(errs...)
}

// Flush makes Read return what the ring buffer holds now, then
// ringbuf.ErrFlushed once: for the last events after the traced command
// exited.
func (t *Tracer) Flush() error { return t.rd.Flush() }

// ErrFlushed is what Read returns once after Flush, when every event sent
// before it was read.
var ErrFlushed = ringbuf.ErrFlushed

func (t *Tracer) newIDs(max int) {
	for i := range t.ids {
		t.ids[i] = newIDTable(max)
	}
	t.names = newNSNames(max)
}

// batchPause is how long Read lets records gather, under load, before it
// reads on; loadGap is how close two catch-ups must come to count as
// load (see Read).
const (
	batchPause = time.Millisecond
	loadGap    = 10 * time.Millisecond
)

// pacer says when Read waits: after it caught up under load.
type pacer struct {
	last  time.Time // when Read last read everything there was
	pause bool      // the next read waits batchPause
}

// caughtUp notes that Read read everything there was at now; under load
// (less than loadGap after the last time) the next read waits.
func (p *pacer) caughtUp(now time.Time) {
	p.pause = !p.last.IsZero() && now.Sub(p.last) < loadGap
	p.last = now
}

// wait waits batchPause if caughtUp said so.
func (p *pacer) wait() {
	if p.pause {
		p.pause = false
		time.Sleep(batchPause)
	}
}

// Read blocks for the next event.
//
// Under load it lets records gather before it reads them. The kernel
// wakes a reader only for a record sent when every earlier one had been
// read (bpf_ringbuf_commit(): the consumer position at the record), and
// that wakeup is the sending program's cost: an irq_work, a self-IPI,
// which in a virtual machine is an exit to the hypervisor. On the 6.18
// VM it was 11 of nst_newtask's 15 µs a fork. A reader that keeps up
// pays it for every record. So when Read has read everything there was
// less than loadGap after it last had, it waits batchPause before it
// reads on, and the records sent meanwhile wake it once, not each. A
// record that comes alone is read at once; under load one is read up to
// batchPause later.
func (t *Tracer) Read() (*Event, error) {
	for {
		t.pacer.wait()
		rec, err := t.rd.Read()
		if err != nil {
			return nil, err
		}
		if t.rd.AvailableBytes() == 0 {
			t.pacer.caughtUp(time.Now())
		}
		e, err := t.decode(rec.RawSample)
		if e != nil || err != nil {
			return e, err
		}
	}
}

// Following reports whether a process Options.Follow follows is still
// alive (it has a thread that has not exited).
func (t *Tracer) Following() (bool, error) {
	var k uint32
	err := t.objs.Followed.NextKey(nil, &k)
	if errors.Is(err, ebpf.ErrKeyNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading the followed processes: %w", err)
	}
	return true, nil
}

// Followed lists the processes Options.Follow still follows: those whose
// last thread has not been seen to exit.
func (t *Tracer) Followed() ([]int, error) {
	var out []int
	var k uint32
	var v uint8
	it := t.objs.Followed.Iterate()
	for it.Next(&k, &v) {
		out = append(out, int(k))
	}
	if err := it.Err(); err != nil {
		return out, fmt.Errorf("reading the followed processes: %w", err)
	}
	return out, nil
}

// Follow follows process tgid as if the command had made it: its events,
// and those of the processes it makes, pass the filter, and the trace
// waits for its exit.
func (t *Tracer) Follow(tgid int) error {
	if err := t.objs.Followed.Put(uint32(tgid), uint8(1)); err != nil {
		return fmt.Errorf("following process %d: %w", tgid, err)
	}
	return nil
}

// Unfollow stops following process tgid, whose exit was not seen.
func (t *Tracer) Unfollow(tgid int) error {
	err := t.objs.Followed.Delete(uint32(tgid))
	if err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return fmt.Errorf("forgetting followed process %d: %w", tgid, err)
	}
	return nil
}

// Lost is the number of events the programs dropped because the ring
// buffer was full.
func (t *Tracer) Lost() (uint64, error) { return t.lost(0) }

// LostExits is the number of exit records dropped the same way: not
// events, but each a set of ids not forgotten (see decode) or, for a
// followed process, an end the trace learns from its periodic look at
// the followed set instead.
func (t *Tracer) LostExits() (uint64, error) { return t.lost(1) }

// Missed is how many times the kernel did not run the fork or system
// call programs because another BPF program was running on that CPU (its
// recursion_misses, Linux 5.12+; 0 before): each a fork event lost, or a
// system call whose unshare, setns or failed fork, if it was one, was
// not seen; and each skip of the kprobe on proc_free_inum() a death
// that may be missing, where the kernel counts a kprobe program's skips
// (recursion_misses again). The exit program's misses lose
// no event and are not counted.
// Added to them: the processes trace could not follow (an update of the
// followed set that failed), whose events are missing.
func (t *Tracer) Missed() (uint64, error) {
	n, err := t.lost(2)
	if err != nil {
		return 0, err
	}
	progs := append([]*ebpf.Program{t.objs.NstNewtask, t.objs.NstExec}, t.calls...)
	if t.deaths != nil {
		progs = append(progs, t.deaths)
	}
	for _, p := range progs {
		st, err := p.Stats()
		if err != nil {
			return 0, fmt.Errorf("reading %v's statistics: %w", p, err)
		}
		n += st.RecursionMisses
	}
	return n, nil
}

// lost sums slot of the per-CPU counter of records that found the ring
// buffer full (trace.bpf.c's LOST_EVENTS, LOST_EXITS).
func (t *Tracer) lost(slot uint32) (uint64, error) {
	var per []uint64
	if err := t.objs.Lost.Lookup(slot, &per); err != nil {
		return 0, fmt.Errorf("reading the lost-record counter: %w", err)
	}
	var n uint64
	for _, v := range per {
		n += v
	}
	return n, nil
}

// pidNamespace is this process's pid namespace inode and depth (the
// number of NSpid entries, less one): the programs give PIDs as numbers
// in it.
func pidNamespace() (ino uint32, level uint32, err error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/ns/pid", &st); err != nil {
		return 0, 0, fmt.Errorf("reading nsinspect's own pid namespace: %w", err)
	}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "NSpid:"); ok {
			return uint32(st.Ino), uint32(len(strings.Fields(rest)) - 1), nil
		}
	}
	return uint32(st.Ino), 0, nil // before 4.1: no nesting shown, and no ring buffer either
}
