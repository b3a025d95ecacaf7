package scan

import (
	"testing"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// BenchmarkScan scans the host as it is. Run it with a population to
// measure, e.g. while bench/scale-fixture.sh 5000 100 10 runs; the number
// of processes read is reported so that runs can be compared.
func BenchmarkScan(b *testing.B) {
	testutil.RequireRoot(b)
	procs := 0
	for b.Loop() {
		res, err := Scan(Options{})
		if err != nil {
			b.Fatal(err)
		}
		procs = res.Processes
	}
	b.ReportMetric(float64(procs), "procs")
}
