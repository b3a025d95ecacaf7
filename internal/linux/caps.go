package linux

import "golang.org/x/sys/unix"

// BPFCapable reports whether this process may load tracing BPF programs
// (capabilities(7)): CAP_SYS_ADMIN, or CAP_BPF and CAP_PERFMON (5.8+), in
// its effective set.
func BPFCapable() bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return false
	}
	has := func(c uint) bool { return data[c/32].Effective&(1<<(c%32)) != 0 }
	return has(unix.CAP_SYS_ADMIN) || (has(unix.CAP_BPF) && has(unix.CAP_PERFMON))
}
