package sharing

import (
	"testing"

	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/procinfo"
)

// BenchmarkCompare measures one full comparison of the benchmark process
// with a sleep: ten ns links each, six kcmp resources with the kthreadd
// NULL checks, and KCMP_FILE on the fds open in both.
func BenchmarkCompare(b *testing.B) {
	testutil.RequireRoot(b)
	cmd := testutil.Command(b, testutil.Held, "sleep", "1000")
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	me, err := procinfo.Self()
	if err != nil {
		b.Fatal(err)
	}
	defer me.Close()
	other, err := procinfo.Open(cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	defer other.Close()
	for b.Loop() {
		if _, err := Compare(me, other); err != nil {
			b.Fatal(err)
		}
	}
}
