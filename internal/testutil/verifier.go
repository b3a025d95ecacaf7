package testutil

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/cilium/ebpf"
)

// verifiedRE is the verifier's closing statistics line, the same from
// Linux 5.2 (BPF_LOG_STATS) to 7.x: "processed 2953 insns (limit
// 1000000) max_states_per_insn 3 ...".
var verifiedRE = regexp.MustCompile(`(?m)^processed (\d+) insns \(limit \d+\)`)

// VerifiedInsns returns how many instructions the verifier walked for a
// program, from its log at ebpf.LogLevelStats, or false where the log
// has no such line.
func VerifiedInsns(log string) (int, bool) {
	m := verifiedRE.FindStringSubmatch(log)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}

// CheckVerifierWork loads spec with the verifier's statistics and fails
// the test for each program whose verification walked more than limit
// instructions: the verifier's work is what a one-shot load pays (about
// 0.6 µs an instruction on the project's 6.18 VM), and a program that
// loops around its work, or inlines a big function per call site,
// multiplies it. It counts instructions, not time, so it is the same
// on a loaded machine.
func CheckVerifierWork(t *testing.T, spec *ebpf.CollectionSpec, opts ebpf.CollectionOptions, limit int) {
	t.Helper()
	opts.Programs.LogLevel = ebpf.LogLevelStats
	coll, err := ebpf.NewCollectionWithOptions(spec, opts)
	if err != nil {
		t.Fatalf("loading the programs with the verifier's statistics: %v", err)
	}
	defer coll.Close()
	for name, p := range coll.Programs {
		n, ok := VerifiedInsns(p.VerifierLog)
		if !ok {
			t.Errorf("%s: no \"processed N insns\" line in the verifier's log: %q", name, p.VerifierLog)
			continue
		}
		t.Logf("%s: the verifier walked %d instructions", name, n)
		if n > limit {
			t.Errorf("%s: the verifier walked %d instructions, more than %d: a loop or inlined call multiplies its work (see docs/kernel-notes.md)", name, n, limit)
		}
	}
}
