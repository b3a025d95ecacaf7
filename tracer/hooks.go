package tracer

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
)

// Hooks is how the tracer sees unshare, setns, exec and the clone calls
// that fail: the programs on the system calls.
type Hooks string

const (
	// HooksFentry: fentry and fexit programs on the system calls'
	// functions (__x64_sys_unshare, __arm64_sys_setns, ...), through BPF
	// trampolines that attach to kernel functions (x86_64; arm64 with ftrace
	// direct calls, 6.4: Debian's 6.1 arm64 has not). Every other system call
	// runs untouched.
	HooksFentry Hooks = "fentry/fexit"
	// HooksRawTracepoints: tp_btf/sys_enter and tp_btf/sys_exit, which
	// every system call of the machine runs (the kernel's traced slow
	// path) and which keep only these: where trampolines are missing.
	HooksRawTracepoints Hooks = "raw syscall tracepoints"
)

// objects are the maps and the programs every tracer loads; the system
// call programs (Tracer.calls) depend on the hooks.
type objects struct {
	traceMaps
	NstNewtask *ebpf.Program `ebpf:"nst_newtask"`
	NstExit    *ebpf.Program `ebpf:"nst_exit"`
	NstExec    *ebpf.Program `ebpf:"nst_exec"`
}

func (o *objects) Close() error {
	return errors.Join(o.traceMaps.Close(), closeAll(o.NstNewtask, o.NstExit, o.NstExec))
}

func closeAll(ps ...*ebpf.Program) error {
	var errs []error
	for _, p := range ps {
		if p != nil {
			errs = append(errs, p.Close())
		}
	}
	return errors.Join(errs...)
}

// syscallPrefix is the architecture's prefix of a system call's function
// (the wrapper that takes the caller's struct pt_regs).
func syscallPrefix() string {
	if runtime.GOARCH == "arm64" {
		return "__arm64_sys_"
	}
	return "__x64_sys_"
}

// callPrograms are the system call programs of hooks h in spec, their
// fentry and fexit targets set for this architecture; the others are
// removed from spec. Without fork and vfork system calls (arm64), their
// programs go too, and so do those of the optional ones whose function
// the kernel's BTF does not have once, by name (gaps says which).
func callPrograms(spec *ebpf.CollectionSpec, h Hooks, kernel *btf.Spec) (keep, gaps []string) {
	for name, p := range spec.Programs {
		fentry := strings.HasPrefix(name, "nst_in_") || strings.HasPrefix(name, "nst_out_")
		raw := name == "nst_sys_enter" || name == "nst_sys_exit"
		switch {
		case !fentry && !raw:
			continue
		case raw && h == HooksRawTracepoints:
		case fentry && h == HooksFentry:
			call, wrapper := strings.CutPrefix(p.AttachTo, "__x64_sys_")
			if (call == "fork" && nrFork < 0) || (call == "vfork" && nrVfork < 0) {
				delete(spec.Programs, name)
				continue
			}
			if wrapper {
				p.AttachTo = syscallPrefix() + call
			}
			if optional[name] && kernel != nil {
				// fork(2) and vfork(2) are SYSCALL_DEFINE0 wrappers,
				// which the kernel's BTF lacks (every kernel of the
				// matrix, and 6.18); Debian's 6.1 has two functions
				// named __x64_sys_clone3, which no name attaches to.
				// Their failures are then not seen; glibc's fork()
				// calls clone.
				var fn *btf.Func
				if err := kernel.TypeByName(p.AttachTo, &fn); err != nil {
					gaps = append(gaps, fmt.Sprintf("a failed %s(2) (the kernel's BTF has no single %s: %v)", call, p.AttachTo, err))
					delete(spec.Programs, name)
					continue
				}
			}
		default:
			delete(spec.Programs, name)
			continue
		}
		keep = append(keep, name)
	}
	if h == HooksFentry {
		gaps = append(gaps, "a call that seccomp refused (it never reaches the system call's function)")
	}
	return keep, gaps
}

// load loads spec (a copy of the object, its variables set) with hooks
// h and attaches every program. On failure nothing is left loaded.
func (t *Tracer) load(spec *ebpf.CollectionSpec, h Hooks, opts *ebpf.CollectionOptions) error {
	deaths := deathSpec(spec)
	names, gaps := callPrograms(spec, h, opts.Programs.KernelTypes)
	coll, err := ebpf.NewCollectionWithOptions(spec, *opts)
	if err != nil {
		return err
	}
	defer coll.Close() // what was not taken from it
	if err := coll.Assign(&t.objs); err != nil {
		return err
	}
	t.calls = nil
	for _, n := range names {
		t.calls = append(t.calls, coll.DetachProgram(n))
	}
	t.hooks, t.gaps = h, gaps
	probed, ok := probedIndex(names)
	if !ok {
		return fmt.Errorf("the tracer's object lacks the programs that see unshare (have %v)", names)
	}
	t.probed = probed
	for _, p := range append([]*ebpf.Program{t.objs.NstNewtask, t.objs.NstExit, t.objs.NstExec}, t.calls...) {
		l, err := link.AttachTracing(link.TracingOptions{Program: p})
		if err != nil {
			err = fmt.Errorf("attaching %s: %w", p, err)
			t.unload()
			return err
		}
		t.links = append(t.links, l)
	}
	if err := t.verifyCalls(); err != nil {
		t.unload()
		return err
	}
	t.deathGap = t.loadDeaths(deaths, opts)
	return nil
}

// optional are the system call programs the tracer does without where
// the kernel cannot attach them.
var optional = map[string]bool{"nst_out_fork": true, "nst_out_vfork": true, "nst_out_clone": true, "nst_out_clone3": true}

// unload detaches and unloads every program and map.
func (t *Tracer) unload() error {
	var errs []error
	for _, l := range t.links {
		if l != nil {
			errs = append(errs, l.Close())
		}
	}
	t.links = nil
	if t.deathProbe != nil {
		errs = append(errs, t.deathProbe.Close())
	}
	errs = append(errs, t.objs.Close(), closeAll(t.calls...), closeAll(t.deaths))
	t.objs, t.calls, t.gaps, t.deaths, t.deathProbe, t.deathGap = objects{}, nil, nil, nil, nil, ""
	return errors.Join(errs...)
}

// Hooks says which programs see the system calls.
func (t *Tracer) Hooks() Hooks { return t.hooks }

// ParseHooks reads a hooks name as the command line gives it:
// "tracepoints" or "fentry".
func ParseHooks(s string) (Hooks, error) {
	switch s {
	case "", "tracepoints":
		return HooksRawTracepoints, nil
	case "fentry":
		return HooksFentry, nil
	}
	return "", fmt.Errorf("unknown hooks %q: tracepoints (every call, seccomp refusals included; every system call of the machine pays for it) or fentry (only the calls that reach their function; the others untouched)", s)
}

// Gaps are the events this kernel does not let the tracer see, one
// phrase each: with fentry, a call that seccomp refused (it never reaches
// the function), and the failures of a call whose function the kernel's
// BTF does not have once by name (fork(2) and vfork(2), SYSCALL_DEFINE0
// wrappers, on every kernel of the matrix); and namespace deaths where
// the kernel takes no kprobe (SeesDeaths).
func (t *Tracer) Gaps() []string {
	if t.deathGap == "" {
		return t.gaps
	}
	return append(slices.Clone(t.gaps), t.deathGap)
}
