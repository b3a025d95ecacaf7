package discover

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/bpfiter"
	"github.com/nsinspect/nsinspect/internal/testutil"
)

// BenchmarkDiscover runs a pass over the host as it is, through /proc
// (GOMAXPROCS workers, one worker, with tasks) and through the BPF
// iterators (bpf, bpf-tasks; the load of the programs included, as in one
// CLI run). Run it with a population to
// measure, e.g. while bench/scale-fixture.sh 5000 100 10 runs. Besides
// wall time it reports the processes read and the CPU time (user+sys) per
// pass, which a machine shared with other work disturbs far less than
// wall time.
func BenchmarkDiscover(b *testing.B) {
	testutil.RequireRoot(b)
	for _, bc := range []struct {
		name string
		opt  Options
		src  Source
	}{
		{"GOMAXPROCS", Options{}, Proc{}},
		{"1worker", Options{Workers: 1}, Proc{}},
		{"tasks", Options{Tasks: true}, Proc{}}, // what nsproxy, graph and kthreads ask for
		{"bpf", Options{}, BPF{}},
		{"bpf-tasks", Options{Tasks: true}, BPF{}},
		{"bpf-loaded", Options{}, nil}, // the programs loaded once, as a server keeps them
	} {
		b.Run(bc.name, func(b *testing.B) {
			if bc.src == nil {
				it, err := bpfiter.Load()
				if err != nil {
					b.Fatal(err)
				}
				defer it.Close()
				bc.src = BPF{Iterators: it}
			}
			procs := 0
			before := cpuTime(b)
			for b.Loop() {
				res, err := Run(bc.opt, bc.src)
				if err != nil {
					b.Fatal(err)
				}
				procs = res.Processes
			}
			b.ReportMetric(float64(cpuTime(b)-before)/float64(b.N)/1e6, "cpu-ms/op")
			b.ReportMetric(float64(procs), "procs")
		})
	}
}

func cpuTime(b *testing.B) int64 {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
