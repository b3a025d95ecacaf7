// Command cmdbench times two commands on the same workload in one run:
// it runs them alternately, each run timed on its own (fork to wait), and
// prints the median, p10 and p90 wall time of each and the ratio of the
// medians. Alternating spreads the machine's noise over both.
//
//	go run ./bench/cmdbench -n 200 -a 'nsinspect clone ...' -b 'unshare -f ... true'
//
// -per-a K divides each of A's times by K (A does K units of work, B one:
// a matrix of K experiments against one C process). -nb M runs B M times
// for each run of A. -tsv adds a last line "median_a_ms<TAB>median_b_ms"
// for scripts.
//
//	cmdbench -once CMD ARGS...
//
// runs one command once, its stdout discarded, and prints "WALL_US
// MAXRSS_KIB CPU_US" (CPU: user+sys from the child's rusage, to the
// microsecond, where GNU time prints hundredths of a second); a failure
// prints the command's stderr and exits 1. Scripts that alternate several
// commands themselves (bench/ls-vs-lsns.sh) time each run with it.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"time"
)

func main() {
	n := flag.Int("n", 100, "runs of A (and of B, times -nb)")
	nb := flag.Int("nb", 1, "runs of B for each run of A")
	perA := flag.Float64("per-a", 1, "divide each of A's times by this (A's units of work)")
	tsv := flag.Bool("tsv", false, "end with a line: median_a_ms TAB median_b_ms")
	a := flag.String("a", "", "first command (split on spaces)")
	b := flag.String("b", "", "second command (split on spaces)")
	one := flag.Bool("once", false, "run the command given as arguments once and print WALL_US MAXRSS_KIB CPU_US")
	flag.Parse()
	if *one {
		os.Exit(runOnce(flag.Args()))
	}
	if *a == "" || *b == "" || *n < 1 || *nb < 1 || *perA <= 0 {
		fmt.Fprintln(os.Stderr, "cmdbench: usage: cmdbench [-n RUNS] [-nb M] [-per-a K] [-tsv] -a 'CMD ARGS' -b 'CMD ARGS'")
		os.Exit(2)
	}
	cmds := [][]string{strings.Fields(*a), strings.Fields(*b)}
	times := [2][]time.Duration{}
	for i := 0; i < *n; i++ {
		for j, c := range cmds {
			reps := 1
			if j == 1 {
				reps = *nb
			}
			for r := 0; r < reps; r++ {
				d, err := once(c)
				if err != nil {
					fmt.Fprintf(os.Stderr, "cmdbench: %s: %v\n", strings.Join(c, " "), err)
					os.Exit(1)
				}
				if j == 0 {
					d = time.Duration(float64(d) / *perA)
				}
				times[j] = append(times[j], d)
			}
		}
	}
	med := [2]time.Duration{}
	for j, c := range cmds {
		ts := times[j]
		sort.Slice(ts, func(x, y int) bool { return ts[x] < ts[y] })
		med[j] = ts[len(ts)/2]
		what := strings.Join(c, " ")
		if j == 0 && *perA != 1 {
			what += fmt.Sprintf("  (per unit: each run / %g)", *perA)
		}
		fmt.Printf("%-8s median %8.2f ms  p10 %8.2f ms  p90 %8.2f ms  (%d runs)  %s\n", []string{"A", "B"}[j],
			ms(med[j]), ms(ts[len(ts)/10]), ms(ts[len(ts)*9/10]), len(ts), what)
	}
	fmt.Printf("ratio    A/B = %.2f\n", float64(med[0])/float64(med[1]))
	if *tsv {
		fmt.Printf("%.4f\t%.4f\n", ms(med[0]), ms(med[1]))
	}
}

func once(c []string) (time.Duration, error) {
	cmd := exec.Command(c[0], c[1:]...)
	var errb strings.Builder
	cmd.Stderr = &errb
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%v: %s", err, errb.String())
	}
	return d, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// runOnce is -once: one run of c, timed and measured.
func runOnce(c []string) int {
	if len(c) == 0 {
		fmt.Fprintln(os.Stderr, "cmdbench: -once needs a command")
		return 2
	}
	cmd := exec.Command(c[0], c[1:]...)
	var errb strings.Builder
	cmd.Stderr = &errb
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cmdbench: %s: %v: %s\n", strings.Join(c, " "), err, errb.String())
		return 1
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		fmt.Fprintln(os.Stderr, "cmdbench: no rusage for the child")
		return 1
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	fmt.Printf("%d %d %d\n", wall.Microseconds(), ru.Maxrss, cpu.Microseconds())
	return 0
}
