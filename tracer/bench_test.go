package tracer

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// BenchmarkSyscallCost is what the tracer costs a system call it does not
// trace: getppid, first with no tracer, then with the tracer attached
// with whichever hooks the kernel takes. With the raw system call
// tracepoints every system call of the machine enters the kernel's
// traced slow path and runs two programs that keep only a few calls;
// with fentry and fexit only unshare, setns, exec and the clone calls run
// a program. The metric is ns per getppid (100,000 calls an iteration,
// so that the kernel matrix's 15 iterations measure something).
func BenchmarkSyscallCost(b *testing.B) {
	testutil.RequireRoot(b)
	const per = 100000
	run := func(b *testing.B) {
		for range b.N {
			for range per {
				unix.Getppid()
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*per), "ns/getppid")
	}
	b.Run("untraced", run)
	for _, h := range []Hooks{HooksRawTracepoints, HooksFentry} {
		tr, err := Open(Options{Hooks: h})
		if errors.Is(err, ErrNoTrampolines) {
			b.Logf("no %s here: %v", h, err)
			continue
		}
		if err != nil {
			b.Fatal(err)
		}
		b.Run("traced-"+strings.NewReplacer(" ", "-", "/", "-").Replace(string(h)), run)
		tr.Close()
	}
	b.Run("untraced-again", run)
}
