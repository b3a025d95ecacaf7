package procinfo

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// SignalNames decodes a signal mask of /proc/PID/status (SigBlk, SigIgn,
// SigCgt, SigPnd, ShdPnd): bit n-1 is signal n. Signals 1-31 get their
// names; real-time signals are named as bash's kill -l names them, from
// glibc's SIGRTMIN (34), since glibc keeps 32 and 33 for itself (NPTL's
// cancellation and setxid signals, which the Go runtime also catches):
// those two are "SIG32" and "SIG33".
func SignalNames(mask uint64) []string {
	var out []string
	for n := 1; n <= 64; n++ {
		if mask&(1<<(n-1)) != 0 {
			out = append(out, signalName(n))
		}
	}
	return out
}

const (
	glibcSIGRTMIN  = 34
	kernelSIGRTMAX = 64
)

func signalName(n int) string {
	switch {
	case n < 32:
		if s := unix.SignalName(syscall.Signal(n)); s != "" {
			return s
		}
		return fmt.Sprintf("SIG%d", n)
	case n < glibcSIGRTMIN:
		return fmt.Sprintf("SIG%d", n)
	case n == glibcSIGRTMIN:
		return "SIGRTMIN"
	case n == kernelSIGRTMAX:
		return "SIGRTMAX"
	case n-glibcSIGRTMIN <= (kernelSIGRTMAX-glibcSIGRTMIN)/2:
		return fmt.Sprintf("SIGRTMIN+%d", n-glibcSIGRTMIN)
	}
	return fmt.Sprintf("SIGRTMAX-%d", kernelSIGRTMAX-n)
}
