package features

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/linux"
)

type entry struct {
	Feature
	probe func() (*bool, string)
}

// table holds, for every interface, what it is for and how to ask for it.
// Since is the mainline release; the probes, not these numbers, decide.
// It is filled in init because two probes ask Has of others, which a
// package-level initializer may not refer back to.
var table [count]entry

func init() {
	table = [count]entry{
		NSGetID: {Feature{"NS_GET_ID", "6.18",
			"namespaces are identified by their 64-bit id (`id` in JSON), unique for the life of the system",
			"namespaces are identified by (st_dev, st_ino) of an nsfs fd held open for as long as the identity is used; `id` is absent from JSON"},
			func() (*bool, string) {
				return onNS("user", "ioctl(NS_GET_ID)", func(fd int) error { _, err := linux.NsGetID(fd); return err })
			}},
		PidfdOpen: {Feature{"pidfd_open", "5.3",
			"every task is pinned by a pidfd before /proc is read, so a reused PID is never read as the task it replaced",
			"no task can be pinned: inspection stops with exit 4"},
			func() (*bool, string) {
				return closeFD("pidfd_open(getpid(), 0)", ifNot(unix.ENOSYS))(unix.PidfdOpen(os.Getpid(), 0))
			}},
		PidfdThread: {Feature{"PIDFD_THREAD", "6.9",
			"a thread (PID:TID) is pinned by a pidfd of its own for kcmp",
			"a thread is pinned by its /proc/PID/task/TID directory fd, which answers ESRCH once that thread is gone"},
			func() (*bool, string) {
				return closeFD("pidfd_open(getpid(), PIDFD_THREAD)", ifNot(unix.EINVAL))(unix.PidfdOpen(os.Getpid(), linux.PIDFD_THREAD))
			}},
		PidfdNamespaces: {Feature{"PIDFD_GET_*_NAMESPACE", "6.11",
			"not used: nsinspect opens /proc/PID/ns links through the pinned /proc directory",
			"nothing changes"},
			func() (*bool, string) {
				return onPidfd("ioctl(PIDFD_GET_NET_NAMESPACE)", func(pidfd int) error {
					fd, err := linux.PidfdGetNamespace(pidfd, linux.PIDFD_GET_NET_NAMESPACE)
					if err == nil {
						unix.Close(fd)
					}
					return err
				})
			}},
		PidfdGetInfo: {Feature{"PIDFD_GET_INFO", "6.13",
			"not used: nsinspect reads /proc/PID/status through the pinned /proc directory",
			"nothing changes"},
			func() (*bool, string) {
				p, ev := onPidfd("ioctl(PIDFD_GET_INFO)", func(pidfd int) error { _, err := linux.PidfdGetInfo(pidfd); return err })
				if p == nil && strings.Contains(ev, "EINVAL") {
					// 6.11 and 6.12 have pidfd ioctls, the namespace
					// ones, which take no argument: any call with one is
					// EINVAL there (measured on Debian's 6.12).
					return decided(false), ev + ": the pidfd ioctls of this kernel take no argument"
				}
				return p, ev
			}},
		NSMntGetInfo: {Feature{"NS_MNT_GET_INFO", "6.12",
			"not used: mounts are read from /proc/PID/mountinfo",
			"nothing changes"},
			func() (*bool, string) {
				return onNS("mnt", "ioctl(NS_MNT_GET_INFO)", func(fd int) error { _, err := linux.NsMntGetInfo(fd); return err })
			}},
		Kcmp: {Feature{"kcmp", "3.5 (CONFIG_KCMP)",
			"compare and clone decide files, fs, vm, sighand, io and sysvsem sharing with kcmp(2)",
			"those six verdicts are unknown, with this as the reason"},
			func() (*bool, string) {
				_, err := linux.Kcmp(os.Getpid(), os.Getpid(), linux.KCMP_VM, 0, 0)
				return answer("kcmp(self, self, KCMP_VM)", err, ifNot(unix.ENOSYS))
			}},
		Clone3: {Feature{"clone3", "5.3",
			"clone experiments with CLONE_NEWTIME, CLONE_CLEAR_SIGHAND, CLONE_INTO_CGROUP or --clone3",
			"those experiments exit 4; all others use clone(2)"},
			func() (*bool, string) {
				err := linux.Clone3Exists()
				p, ev := answer("clone3(NULL, 0)", err, ifNot(unix.ENOSYS))
				if p != nil && !*p {
					ev += " (a seccomp filter may hide it: Docker's default profile answers ENOSYS)"
				}
				return p, ev
			}},
		CloneClearSighand: {Feature{"CLONE_CLEAR_SIGHAND", "5.5",
			"clone experiments with CLONE_CLEAR_SIGHAND",
			"those experiments exit 4"},
			func() (*bool, string) {
				p, ev := cloneFlag(unix.CLONE_CLEAR_SIGHAND, "CLONE_CLEAR_SIGHAND|CLONE_INTO_CGROUP")
				if p != nil && !*p && !Has(CloneIntoCgroup) {
					// EINVAL may be CLONE_INTO_CGROUP's alone.
					return nil, ev + "; undecided, since CLONE_INTO_CGROUP (5.7) is missing too"
				}
				return p, ev
			}},
		CloneIntoCgroup: {Feature{"CLONE_INTO_CGROUP", "5.7",
			"clone experiments with CLONE_INTO_CGROUP (--cgroup DIR)",
			"those experiments exit 4"},
			func() (*bool, string) { return cloneFlag(0, "CLONE_INTO_CGROUP") }},
		CloseRange: {Feature{"close_range", "5.9",
			"the experiment's C parent closes every fd it inherited from nsinspect in one call",
			"clone, unshare and matrix exit 4"},
			func() (*bool, string) {
				return answer("close_range(~0U, ~0U, 0)", linux.CloseRangeNone(), ifNot(unix.ENOSYS))
			}},
		TimeNamespaces: {Feature{"time namespaces", "5.6",
			"the time and time_for_children links; CLONE_NEWTIME experiments",
			"those links are reported missing; CLONE_NEWTIME experiments exit 4"},
			func() (*bool, string) { return exists("/proc/self/ns/time") }},
		BTF: {Feature{"BTF", "5.4 (CONFIG_DEBUG_INFO_BTF)",
			"`struct` reads kernel struct layouts from /sys/kernel/btf/vmlinux",
			"`struct` exits 4 unless --btf FILE names a vmlinux or raw BTF"},
			func() (*bool, string) { return exists("/sys/kernel/btf/vmlinux") }},
		Listns: {Feature{"listns", "6.19",
			"ls --source listns, and auto as root, add the kernel's active namespaces the pass missed (one listns call per 512 namespaces)",
			"--source listns exits 4; auto lists what its proc or bpf pass finds"},
			func() (*bool, string) {
				return answer("listns(NULL, NULL, 0, 0)", linux.ListnsExists(), ifNot(unix.ENOSYS))
			}},
		BPFIterators: {Feature{"BPF task iterators", "5.8",
			"the bpf source and the --kernel views read task_struct with iter/task and iter/task_file",
			"ls falls back to /proc; --source bpf and the kernel views exit 4"},
			func() (*bool, string) {
				return btfNames("/sys/kernel/btf/vmlinux", "bpf_iter__task", "bpf_iter__task_file")
			}},
		BPFMemcg: {Feature{"BPF memcg accounting", "5.11",
			"BPF maps are charged to the memory cgroup: RLIMIT_MEMLOCK is left alone",
			"BPF maps are charged to RLIMIT_MEMLOCK, which nsinspect raises while it loads its iterators and restores after"},
			bpfMemcg},
		BPFTrampolines: {Feature{"BPF trampolines (fentry/fexit)", "5.5 x86_64, 6.4 arm64 (CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS)",
			"trace and watch see unshare, setns, exec and failed clones with fentry and fexit programs on those system calls alone (not a failed fork(2) or vfork(2) system call where the kernel's BTF lacks its function: glibc's fork() calls clone)",
			"trace and watch use the raw system call tracepoints, which every system call of the machine then runs (about 150 ns each)"},
			trampolines},
		Kprobes: {Feature{"kprobes (namespace deaths)", "4.17 (the kprobe event source: CONFIG_KPROBE_EVENTS)",
			"trace, watch and serve --events report namespace deaths: a kprobe program on proc_free_inum(), which every namespace type's free calls",
			"namespace deaths are not reported (the end line's unseen says so; births still are)"},
			kprobes},
	}
}

// A verdict turns a probe's errno into present / absent / undecided.
type verdict func(err error) *bool

// ifNot: the interface is absent exactly when the call fails with errno;
// success or any other errno proves the kernel knows the call.
func ifNot(errno unix.Errno) verdict {
	return func(err error) *bool { return decided(!errors.Is(err, errno)) }
}

func answer(call string, err error, v verdict) (*bool, string) {
	return v(err), call + ": " + errText(err)
}

func errText(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return unix.ErrnoName(errno) + " (" + errno.Error() + ")"
	}
	if err != nil {
		return err.Error()
	}
	return "ok"
}

// closeFD adapts a call returning an fd: the fd is closed and its error
// judged.
func closeFD(call string, v verdict) func(int, error) (*bool, string) {
	return func(fd int, err error) (*bool, string) {
		if err == nil {
			unix.Close(fd)
		}
		return answer(call, err, v)
	}
}

// onNS runs an nsfs ioctl on this process's namespace of the given link.
// An nsfs ioctl the kernel does not know answers ENOTTY.
func onNS(link, call string, ioctl func(fd int) error) (*bool, string) {
	path := "/proc/self/ns/" + link
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Sprintf("open %s: %s", path, errText(err))
	}
	defer unix.Close(fd)
	return onFD(call+" on "+path, fd, ioctl)
}

// onPidfd runs a pidfd ioctl on a pidfd of this process. Before pidfs
// (6.9) a pidfd has no ioctls at all: ENOTTY.
func onPidfd(call string, ioctl func(pidfd int) error) (*bool, string) {
	pidfd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		return nil, "pidfd_open(getpid(), 0): " + errText(err)
	}
	defer unix.Close(pidfd)
	return onFD(call+" on a pidfd of this process", pidfd, ioctl)
}

func onFD(call string, fd int, ioctl func(int) error) (*bool, string) {
	err := ioctl(fd)
	switch {
	case err == nil:
		return decided(true), call + ": ok"
	case errors.Is(err, unix.ENOTTY):
		return decided(false), call + ": " + errText(err)
	}
	return nil, call + ": " + errText(err)
}

// cloneFlag asks clone3 about a flag with a cgroup fd that is not one:
// EBADF means every flag passed validation (and no task was made),
// EINVAL that one is unknown.
func cloneFlag(flag uint64, names string) (*bool, string) {
	if !Has(Clone3) {
		return decided(false), "no clone3 system call (" + Probe(Clone3).Evidence + ")"
	}
	fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, "open /dev/null: " + errText(err)
	}
	defer unix.Close(fd)
	err = linux.Clone3Refused(flag, fd)
	call := "clone3({flags: " + names + ", cgroup: fd of /dev/null})"
	switch {
	case errors.Is(err, unix.EBADF):
		return decided(true), call + ": " + errText(err) + ", past flag validation"
	case errors.Is(err, unix.EINVAL):
		return decided(false), call + ": " + errText(err)
	}
	return nil, call + ": " + errText(err)
}

func exists(path string) (*bool, string) {
	var st unix.Stat_t
	err := unix.Stat(path, &st)
	switch {
	case err == nil:
		return decided(true), "stat " + path + ": ok"
	case errors.Is(err, unix.ENOENT):
		return decided(false), "stat " + path + ": " + errText(err)
	}
	return nil, "stat " + path + ": " + errText(err)
}

// btfNames reports whether the BTF at path names every one of names (a
// type or function the kernel defines): the iterators' context structs
// exist exactly where their iterators do. The names are looked up in the
// raw string section, as NUL-terminated strings, without decoding types.
func btfNames(path string, names ...string) (*bool, string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "read " + path + ": " + errText(err)
	}
	for _, n := range names {
		if !bytes.Contains(b, []byte("\x00"+n+"\x00")) {
			return decided(false), path + " has no " + n
		}
	}
	return decided(true), path + " names " + strings.Join(names, " and ")
}

// bpfMemcg tells whether BPF memory is charged to the memory cgroup
// (5.11) or to RLIMIT_MEMLOCK (before): a one-entry map is created with
// the soft RLIMIT_MEMLOCK at 0, which succeeds only in the first case.
// Before 5.11 the charge is per user (every root process's maps count
// against each one's limit), so the control map is made with the limit
// raised as far as this process may; without the privilege to create it
// at all, the answer is undecided. The limit is put back.
func bpfMemcg() (*bool, string) {
	const call = "bpf(BPF_MAP_CREATE, array of 1) with RLIMIT_MEMLOCK 0"
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &old); err != nil {
		return nil, "getrlimit(RLIMIT_MEMLOCK): " + errText(err)
	}
	defer unix.Setrlimit(unix.RLIMIT_MEMLOCK, &old)
	if unix.Setrlimit(unix.RLIMIT_MEMLOCK, &unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}) != nil {
		_ = unix.Setrlimit(unix.RLIMIT_MEMLOCK, &unix.Rlimit{Cur: old.Max, Max: old.Max})
	}
	if err := linux.BPFArrayMapCreate(); err != nil {
		return nil, "bpf(BPF_MAP_CREATE, array of 1): " + errText(err)
	}
	if err := unix.Setrlimit(unix.RLIMIT_MEMLOCK, &unix.Rlimit{Cur: 0, Max: old.Max}); err != nil {
		return nil, "setrlimit(RLIMIT_MEMLOCK, 0): " + errText(err)
	}
	return answer(call, linux.BPFArrayMapCreate(), ifNot(unix.EPERM))
}

// trampolines loads a program that does nothing as fentry of unshare's
// system call function and attaches it for a moment: the load needs BTF
// and privilege, the attach a kernel that builds BPF trampolines on this
// architecture (ENOTSUPP, 524, without).
func trampolines() (*bool, string) {
	fn := "__x64_sys_unshare"
	if runtime.GOARCH == "arm64" {
		fn = "__arm64_sys_unshare"
	}
	call := "fentry " + fn
	defer unlimitedMemlock()()
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type: ebpf.Tracing, AttachType: ebpf.AttachTraceFEntry, AttachTo: fn, License: "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
	})
	if err != nil {
		if errors.Is(err, unix.EPERM) && linux.BPFCapable() {
			// Privileged, and still refused: the kernel will not load
			// fentry programs here (a policy, or a kernel built so).
			return decided(false), "loading " + call + " with CAP_BPF and CAP_PERFMON: " + errText(err)
		}
		return nil, "loading " + call + ": " + errText(err)
	}
	defer prog.Close()
	l, err := link.AttachTracing(link.TracingOptions{Program: prog})
	if err != nil {
		if errors.Is(err, errENOTSUPP) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, ebpf.ErrNotSupported) {
			return decided(false), "attaching " + call + ": " + errText(err)
		}
		return nil, "attaching " + call + ": " + errText(err)
	}
	l.Close()
	return decided(true), call + " attached"
}

// kprobes attaches an empty kprobe program to proc_free_inum() for a
// moment, as the tracer's would be. Without a kprobe event source the
// kernel has none (CONFIG_KPROBE_EVENTS off: the project's 6.18 VM
// kernel); a privileged refusal is a kernel that will not.
func kprobes() (*bool, string) {
	const fn = "proc_free_inum"
	if _, err := os.Stat(linux.KprobePMU); err != nil {
		return decided(false), "no kprobe event source: " + errText(err)
	}
	defer unlimitedMemlock()()
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type: ebpf.Kprobe, License: "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
	})
	if err != nil {
		if errors.Is(err, unix.EPERM) && linux.BPFCapable() {
			return decided(false), "loading a kprobe program with CAP_BPF and CAP_PERFMON: " + errText(err)
		}
		return nil, "loading a kprobe program: " + errText(err)
	}
	defer prog.Close()
	probe, err := linux.AttachKprobe(prog.FD(), fn)
	if err != nil {
		if linux.BPFCapable() {
			return decided(false), err.Error()
		}
		return nil, err.Error()
	}
	probe.Close()
	return decided(true), "kprobe on " + fn + " attached"
}

// unlimitedMemlock lifts RLIMIT_MEMLOCK, to which a probe's program is
// charged before 5.11, and returns what puts it back. (bpfload's
// RaiseMemlock asks this package first, so it cannot serve here.)
func unlimitedMemlock() (restore func()) {
	var old unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_MEMLOCK, &old) != nil {
		return func() {}
	}
	_ = unix.Setrlimit(unix.RLIMIT_MEMLOCK, &unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY})
	return func() { _ = unix.Setrlimit(unix.RLIMIT_MEMLOCK, &old) }
}

// errENOTSUPP is the kernel's internal ENOTSUPP (524), which the BPF
// trampoline code returns to user space.
const errENOTSUPP = unix.Errno(524)
