package linux

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// KprobePMU is the kprobe event source (CONFIG_KPROBE_EVENTS; a PMU
// since 4.17): its type file numbers it for perf_event_open(2).
const KprobePMU = "/sys/bus/event_source/devices/kprobe"

// AttachKprobe attaches the BPF program prog (an fd, BPF_PROG_TYPE_KPROBE)
// to a kprobe at the entry of kernel function fn, through the kprobe
// event source: perf_event_open(2) with the function's name in config1,
// then PERF_EVENT_IOC_SET_BPF and PERF_EVENT_IOC_ENABLE. The probe lives
// as long as the returned fd, so that nothing is left when the process
// dies, however it dies. By hand because cilium/ebpf's link.Kprobe falls
// back to an entry in tracefs's kprobe_events, which outlives a SIGKILL,
// where the event source is missing; and it costs the image 20 KB of
// kretprobe and tracefs code nsinspect does not use.
func AttachKprobe(prog int, fn string) (*os.File, error) {
	b, err := os.ReadFile(KprobePMU + "/type")
	if err != nil {
		return nil, fmt.Errorf("no kprobe event source: %w", err)
	}
	typ, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
	if err != nil {
		return nil, fmt.Errorf("reading %s/type: %w", KprobePMU, err)
	}
	name, err := unix.BytePtrFromString(fn)
	if err != nil {
		return nil, err
	}
	attr := unix.PerfEventAttr{
		Type:        uint32(typ),
		Size:        uint32(unsafe.Sizeof(unix.PerfEventAttr{})),
		Sample_type: unix.PERF_SAMPLE_RAW,
		Sample:      1,
		Wakeup:      1,
		Ext1:        uint64(uintptr(unsafe.Pointer(name))), // config1: the function
		Ext2:        0,                                     // config2: the offset in it
	}
	// Every CPU's calls: a trace event's program runs wherever the probe
	// fires; the cpu argument only places the perf event.
	fd, err := unix.PerfEventOpen(&attr, -1, 0, -1, unix.PERF_FLAG_FD_CLOEXEC)
	runtime.KeepAlive(name)
	if err != nil {
		return nil, fmt.Errorf("kprobe %s: %w", fn, os.NewSyscallError("perf_event_open", err))
	}
	f := os.NewFile(uintptr(fd), "kprobe:"+fn)
	if err := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_SET_BPF, prog); err != nil {
		f.Close()
		return nil, fmt.Errorf("kprobe %s: %w", fn, os.NewSyscallError("ioctl PERF_EVENT_IOC_SET_BPF", err))
	}
	if err := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_ENABLE, 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("kprobe %s: %w", fn, os.NewSyscallError("ioctl PERF_EVENT_IOC_ENABLE", err))
	}
	return f, nil
}
