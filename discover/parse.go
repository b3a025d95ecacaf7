package discover

// The /proc walk's one parser of its own: directory entry names. nsfs
// links are parsed by namespaces.ParseLink and nsfs mounts by
// procinfo.ParseNSFSMounts.

// parseUint parses a non-empty decimal number as the kernel prints one
// (no sign, no leading zeros) without allocating; ok is false on anything
// else or on overflow.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 || (len(b) > 1 && b[0] == '0') {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (1<<64-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}
