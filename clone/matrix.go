package clone

import (
	"runtime"
	"sync"

	"github.com/nsinspect/nsinspect/clone/flags"
	"github.com/nsinspect/nsinspect/clone/report"
	"github.com/nsinspect/nsinspect/internal/nsichild"
)

// matrixReports runs one experiment per set, in order, each parent forked
// by z and each experiment reaped before the next.
func matrixReports(req Request, sets []flags.Set, mode string, z *nsichild.Zygote) ([]*report.Clone, error) {
	out := make([]*report.Clone, 0, len(sets))
	for _, s := range sets {
		one := req
		one.Flags = s
		rep, err := experimentReport(one, mode, z)
		if err != nil {
			return nil, err
		}
		out = append(out, rep)
	}
	return out, nil
}

// maxMatrixWorkers bounds how many experiments a matrix runs at once.
const maxMatrixWorkers = 4

// matrixWorkers is how many experiments a matrix of n runs at once: one
// per CPU the Go runtime uses, at most maxMatrixWorkers. An experiment is
// a chain of round trips between processes, and one chain leaves a CPU
// idle about half the time (perf record -a: 27 % halted on 2 CPUs).
func matrixWorkers(n int) int {
	w := min(runtime.GOMAXPROCS(0), maxMatrixWorkers, n)
	return max(w, 1)
}

// matrixParallel runs one experiment per set on workers goroutines, each
// with a zygote of its own from start (so each has its own lab: no
// experiment sees another's processes, mounts or IPC objects, and each
// zygote reaps only its own). The reports are in the order of sets. Each
// worker ends its zygote when the sets run out; on the first error the
// others stop after their current experiment.
func matrixParallel(req Request, sets []flags.Set, workers int, start func() (*nsichild.Zygote, string, error)) ([]*report.Clone, error) {
	out := make([]*report.Clone, len(sets))
	next := make(chan int)
	quit := make(chan struct{})
	var once sync.Once
	var firstErr error
	fail := func(err error) {
		once.Do(func() { firstErr = err; close(quit) })
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			// The zygote's PDEATHSIG watches the thread that started it.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			z, mode, err := start()
			if err != nil {
				fail(err)
				return
			}
			defer z.Close()
			for i := range next {
				one := req
				one.Flags = sets[i]
				rep, err := experimentReport(one, mode, z)
				if err != nil {
					fail(err)
					return
				}
				out[i] = rep
			}
		})
	}
feed:
	for i := range sets {
		select {
		case next <- i:
		case <-quit:
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}
