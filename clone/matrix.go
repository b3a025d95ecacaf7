package clone

import "golang.org/x/sys/unix"

// DefaultMatrix is every single flag and every pair of flags (the kernel
// decides which are valid), CLONE_INTO_CGROUP aside: it needs a cgroup.
func DefaultMatrix() []FlagSet {
	var fs []Flag
	for _, f := range Flags {
		if f.Value != unix.CLONE_INTO_CGROUP {
			fs = append(fs, f)
		}
	}
	var out []FlagSet
	for i, a := range fs {
		out = append(out, FlagSet(a.Value))
		for _, b := range fs[i+1:] {
			out = append(out, FlagSet(a.Value|b.Value))
		}
	}
	return out
}

// ResourceFlags are the flags that decide a resource verdict: every
// CLONE_NEW* and the six sharing flags.
const ResourceFlags = NamespaceFlags | unix.CLONE_FILES | unix.CLONE_FS | unix.CLONE_VM |
	unix.CLONE_SIGHAND | unix.CLONE_SYSVSEM | unix.CLONE_IO

// AllMatrix is every combination of ResourceFlags (2^14 calls; the kernel
// refuses the invalid ones).
func AllMatrix() []FlagSet {
	var bits []uint64
	for b := uint64(1); b != 0 && b <= ResourceFlags; b <<= 1 {
		if ResourceFlags&b != 0 {
			bits = append(bits, b)
		}
	}
	out := make([]FlagSet, 0, 1<<len(bits))
	for m := 0; m < 1<<len(bits); m++ {
		var f uint64
		for i, b := range bits {
			if m&(1<<i) != 0 {
				f |= b
			}
		}
		if f != 0 {
			out = append(out, FlagSet(f))
		}
	}
	return out
}

// RunMatrix runs every flag set of req.Matrix in one lab (or on the host)
// and returns one report each, in order.
func RunMatrix(req Request) ([]*Report, error) {
	req.Op = opNameMatrix
	if err := req.needs(); err != nil {
		return nil, err
	}
	if req.Host {
		var reps []*Report
		err := onHost(func() (err error) { reps, err = matrixReports(req, "host"); return })
		return reps, err
	}
	var reps []*Report
	if err := runLab(req, &reps); err != nil {
		return nil, err
	}
	return reps, nil
}

func matrixReports(req Request, mode string) ([]*Report, error) {
	out := make([]*Report, 0, len(req.Matrix))
	for _, f := range req.Matrix {
		one := req
		one.Flags, one.Matrix = f, nil
		rep, err := experimentReport(one, mode)
		if err != nil {
			return nil, err
		}
		out = append(out, rep)
	}
	return out, nil
}
