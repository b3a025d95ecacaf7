package discover

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/bpfiter"
	"github.com/nsinspect/nsinspect/internal/testutil"
)

// BenchmarkDiscover runs a pass over the host as it is, through /proc
// (proc: GOMAXPROCS workers; proc-1worker; proc-tasks), through the /proc
// walk and then listns(2) (listns), through the BPF
// iterators (bpf, bpf-tasks; the load of the programs included, as in one
// CLI run) and through Auto (auto, auto-tasks: whichever it picks here).
// The -tasks passes are what nsproxy, graph and kthreads ask for. Run it
// with a population to measure, e.g. while bench/scale-fixture.sh 5000
// 100 10 runs; bench/ls-vs-lsns.sh runs it at several sizes. Besides
// wall time it reports the processes and threads on the host (the size
// Auto decides by) and the CPU time (user+sys) per pass, which a machine
// shared with other work disturbs far less than wall time.
func BenchmarkDiscover(b *testing.B) {
	testutil.RequireRoot(b)
	for _, bc := range []struct {
		name string
		opt  Options
		src  Source
	}{
		{"proc", Options{}, Proc{}},
		{"proc-1worker", Options{Workers: 1}, Proc{}},
		{"proc-tasks", Options{Tasks: true}, Proc{}},
		{"listns", Options{}, Listns{}}, // Linux 6.19+, as root
		{"bpf", Options{}, BPF{}},
		{"bpf-tasks", Options{Tasks: true}, BPF{}},
		{"bpf-loaded", Options{}, nil}, // the programs loaded once, as a server keeps them
		{"auto", Options{}, Auto{}},
		{"auto-tasks", Options{Tasks: true}, Auto{}},
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
			if n, err := hostThreads(); err == nil {
				b.ReportMetric(float64(n), "threads")
			}
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

// hostThreads is the size Auto decides by: the threads on the host.
func hostThreads() (int, error) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, err
	}
	return parseLoadavgThreads(string(b))
}

// BenchmarkListnsAfterPass is what Auto adds to a pass where listns(2)
// shows every namespace, when the pass missed nothing: one listns call
// per 512 namespaces and a lookup of each id among those found. Linux
// 6.19+, as root; TestAutoAddsWhatListnsLists logs the same in the
// kernel matrix.
func BenchmarkListnsAfterPass(b *testing.B) {
	testutil.RequireRoot(b)
	if err := ListnsUsable(); err != nil {
		b.Fatal(err)
	}
	p := &Pass{reg: newRegistry(), socks: newNetSockets()}
	p.nsfsDev, _ = nsfsDev(p.procRoot())
	defer p.reg.close()
	if err := (Proc{}).Discover(p); err != nil {
		b.Fatal(err)
	}
	if _, _, err := p.addListed(); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := p.addListed(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(p.reg.order)), "namespaces")
}
