// Package decimal parses numbers as the kernel prints them in /proc: pids,
// tids and fd numbers in directory names, inode numbers in nsfs links. It
// is its own package so that namespaces (link text) and discover (entry
// names) share one parser without importing each other, and it does not
// allocate: a discovery pass calls it for every entry of /proc, every
// task and every fd.
package decimal

// Parse parses a non-empty unsigned decimal number with no sign and no
// leading zeros, as the kernel prints one; ok is false on anything else
// and on overflow of 64 bits.
func Parse[S ~string | ~[]byte](b S) (n uint64, ok bool) {
	if len(b) == 0 || len(b) > 20 || (len(b) > 1 && b[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
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
