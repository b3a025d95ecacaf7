package sharing

import (
	"strings"
	"testing"
)

// The evidence of KCMP_IO and KCMP_SYSVSEM says in words whether each task
// has the object, not a=true b=false: a reader of a report is learning
// what kcmp compares.
func TestEvidenceStringNullPointers(t *testing.T) {
	yes, no := true, false
	zero, one := 0, 1
	cases := []struct {
		ev   Evidence
		want string
	}{
		{Evidence{Kcmp: "KCMP_IO", Result: &zero, NullRef: 2, ANull: &yes, BNull: &yes},
			"kcmp KCMP_IO = 0; neither task has an io_context yet (kcmp treats two NULLs as equal)"},
		{Evidence{Kcmp: "KCMP_SYSVSEM", Result: &zero, NullRef: 2, ANull: &yes, BNull: &yes},
			"kcmp KCMP_SYSVSEM = 0; neither task has a SysV semaphore undo list yet (kcmp treats two NULLs as equal)"},
		{Evidence{Kcmp: "KCMP_IO", Result: &one, NullRef: 2, ANull: &no, BNull: &no},
			"kcmp KCMP_IO = 1; both tasks have an io_context (neither equals kthreadd's NULL)"},
		{Evidence{Kcmp: "KCMP_IO", Result: &one, NullRef: 2, ANull: &no, BNull: &yes},
			"kcmp KCMP_IO = 1; only A has an io_context (B's equals kthreadd's NULL)"},
		{Evidence{Kcmp: "KCMP_SYSVSEM", Result: &one, NullRef: 2, ANull: &yes, BNull: &no},
			"kcmp KCMP_SYSVSEM = 1; only B has a SysV semaphore undo list (A's equals kthreadd's NULL)"},
		// Without the NULL check (no kthreadd in view) the result stands alone.
		{Evidence{Kcmp: "KCMP_IO", Result: &zero}, "kcmp KCMP_IO = 0"},
	}
	for _, c := range cases {
		got := c.ev.String()
		if got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
		if strings.Contains(got, "a=") || strings.Contains(got, "b=") {
			t.Errorf("%q: jargon a=/b= in evidence", got)
		}
	}
}
