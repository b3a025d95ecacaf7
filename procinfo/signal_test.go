package procinfo

import (
	"strings"
	"testing"
)

func TestSignalNames(t *testing.T) {
	for mask, want := range map[uint64]string{
		0:                  "",
		0x0000000000010000: "SIGCHLD",            // the zombie fixture's SigCgt
		0x0000000000000006: "SIGINT|SIGQUIT",     // and its SigIgn
		0x00000001c0000000: "SIGSYS|SIG32|SIG33", // bits 30-32: signals 31, 32, 33
		1 << 33:            "SIGRTMIN",
		1 << 48:            "SIGRTMIN+15",
		1 << 49:            "SIGRTMAX-14",
		1 << 63:            "SIGRTMAX",
	} {
		if got := strings.Join(SignalNames(mask), "|"); got != want {
			t.Errorf("SignalNames(%#x) = %s, want %s", mask, got, want)
		}
	}
	if n := len(SignalNames(^uint64(0))); n != 64 {
		t.Errorf("a full mask decodes to %d names, want 64", n)
	}
}
