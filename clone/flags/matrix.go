package flags

import "golang.org/x/sys/unix"

// DefaultMatrix is every single flag and every pair of flags (the kernel
// decides which are valid), CLONE_INTO_CGROUP aside: it needs a cgroup.
func DefaultMatrix() []Set {
	var fs []Flag
	for _, f := range Known {
		if f.Value != unix.CLONE_INTO_CGROUP {
			fs = append(fs, f)
		}
	}
	var out []Set
	for i, a := range fs {
		out = append(out, Set(a.Value))
		for _, b := range fs[i+1:] {
			out = append(out, Set(a.Value|b.Value))
		}
	}
	return out
}

// Resources are the flags that decide a resource verdict: every
// CLONE_NEW* and the six sharing flags.
const Resources = Namespaces | unix.CLONE_FILES | unix.CLONE_FS | unix.CLONE_VM |
	unix.CLONE_SIGHAND | unix.CLONE_SYSVSEM | unix.CLONE_IO

// AllMatrix is every combination of Resources (2^14 calls; the kernel
// refuses the invalid ones).
func AllMatrix() []Set {
	var bits []uint64
	for b := uint64(1); b != 0 && b <= Resources; b <<= 1 {
		if Resources&b != 0 {
			bits = append(bits, b)
		}
	}
	out := make([]Set, 0, 1<<len(bits))
	for m := 0; m < 1<<len(bits); m++ {
		var f uint64
		for i, b := range bits {
			if m&(1<<i) != 0 {
				f |= b
			}
		}
		if f != 0 {
			out = append(out, Set(f))
		}
	}
	return out
}
