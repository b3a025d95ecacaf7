package bpfload

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/features"
	"github.com/nsinspect/nsinspect/internal/linux"
)

// NoBTF is the reason given wherever the kernel's BTF is missing.
const NoBTF = "the kernel has no BTF (/sys/kernel/btf/vmlinux; CONFIG_DEBUG_INFO_BTF=y) for CO-RE"

// HasCaps reports whether this process may load tracing programs:
// CAP_SYS_ADMIN, or CAP_BPF and CAP_PERFMON, in its effective set.
func HasCaps() bool { return linux.BPFCapable() }

// Refusal says, without loading anything, why a CO-RE program that reads
// kernel memory cannot be loaded here whatever the privilege: no kernel
// BTF, or lockdown in confidentiality mode. "" when nothing forbids it.
func Refusal() string {
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		return NoBTF
	}
	if Lockdown() == "confidentiality" {
		return "kernel lockdown is in confidentiality mode, which forbids BPF reads of kernel memory"
	}
	return ""
}

// Lockdown is the active mode of /sys/kernel/security/lockdown, "" when
// the file is absent.
func Lockdown() string {
	b, err := os.ReadFile("/sys/kernel/security/lockdown")
	if err != nil {
		return ""
	}
	s := string(b)
	if i := strings.IndexByte(s, '['); i >= 0 {
		if j := strings.IndexByte(s[i:], ']'); j > 0 {
			return s[i+1 : i+j]
		}
	}
	return ""
}

// LockdownHint is appended to a load the kernel refused with EPERM or
// EACCES: what may have forbidden it.
func LockdownHint() string {
	if l := Lockdown(); l != "" && l != "none" {
		return " (kernel lockdown: " + l + ")"
	}
	return " (an LSM, lockdown or kernel.unprivileged_bpf_disabled may forbid it)"
}

// Release is uname -r, for messages.
func Release() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return "?"
	}
	return unix.ByteSliceToString(u.Release[:])
}

// RaiseMemlock raises RLIMIT_MEMLOCK for a load where the kernel charges
// BPF memory to it and returns what puts the old limit back. Before 5.11
// BPF memory is charged to RLIMIT_MEMLOCK (64 KiB by default, less than
// the maps need: map creation fails with EPERM); from 5.11 to the memory
// cgroup, and the limit is left alone. features.BPFMemcg probes which,
// once per run; an undecided probe raises the limit too, which costs
// nothing where it is not charged. cilium/ebpf/rlimit, which would do
// this, probes at package init (three prlimit(2) calls, a read of
// /proc/self/mountinfo, a BPF map created and closed): importing it cost
// every start of nsinspect 0.35 to 0.6 ms.
//
// The limit is raised as far as this process may: to infinity with
// CAP_SYS_RESOURCE, else the soft limit to the hard one.
func RaiseMemlock() (restore func(), err error) {
	if p := features.Probe(features.BPFMemcg).Present; p != nil && *p {
		return func() {}, nil
	}
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &old); err != nil {
		return nil, fmt.Errorf("getrlimit(RLIMIT_MEMLOCK): %w", err)
	}
	restore = func() { _ = unix.Setrlimit(unix.RLIMIT_MEMLOCK, &old) }
	inf := unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}
	if err := unix.Setrlimit(unix.RLIMIT_MEMLOCK, &inf); err == nil {
		return restore, nil
	}
	if err := unix.Setrlimit(unix.RLIMIT_MEMLOCK, &unix.Rlimit{Cur: old.Max, Max: old.Max}); err != nil {
		return nil, fmt.Errorf("setrlimit(RLIMIT_MEMLOCK): %w", err)
	}
	return restore, nil
}
