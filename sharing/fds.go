package sharing

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/linux"
	"github.com/nsinspect/nsinspect/procinfo"
)

// compareFDs runs KCMP_FILE on every fd number open in both tasks: same
// open file description (a dup or an inherited fd, sharing one offset) or
// not (a second open(2) of the same file). An fd closed during the
// comparison is left out: it is no longer open in both. The string is why
// the fd tables could not be listed at all.
func compareFDs(a, b *procinfo.Proc) ([]FDPair, string) {
	fa, err := a.FDNumbers()
	if err != nil {
		return nil, fdNote(err)
	}
	fb, err := b.FDNumbers()
	if err != nil {
		return nil, fdNote(err)
	}
	out := []FDPair{}
	for _, fd := range fa {
		// Both lists ascend: skip b's fds below fd.
		for len(fb) > 0 && fb[0] < fd {
			fb = fb[1:]
		}
		if len(fb) == 0 || fb[0] != fd {
			continue
		}
		pair, ok := compareFD(a, b, fd)
		if ok {
			out = append(out, pair)
		}
	}
	return out, ""
}

func compareFD(a, b *procinfo.Proc, fd int) (FDPair, bool) {
	pair := FDPair{FD: fd}
	name := "fd/" + strconv.Itoa(fd)
	var errA, errB error
	pair.A, errA = a.Readlink(name)
	pair.B, errB = b.Readlink(name)
	if errors.Is(errA, unix.ENOENT) || errors.Is(errB, unix.ENOENT) {
		return pair, false // closed since the listing
	}
	if err := errors.Join(errA, errB); err != nil {
		pair.Error = oneLine(err)
		if procinfo.IsDenied(err) {
			pair.Error += " (" + procinfo.DeniedHint("reading /proc/PID/fd links") + ")"
		}
		return pair, true
	}
	res, err := linux.Kcmp(a.TID, b.TID, linux.KCMP_FILE, uintptr(fd), uintptr(fd))
	switch {
	case errors.Is(err, unix.EBADF):
		return pair, false
	case err != nil:
		pair.Error = err.Error()
		if procinfo.IsDenied(err) {
			pair.Error += " (" + procinfo.DeniedHint("kcmp") + ")"
		}
	case res == 0 || res == 1 || res == 2:
		pair.Shared = ptr(res == 0)
	default:
		pair.Error = fmt.Sprintf("kcmp returned %d (not comparable)", res)
	}
	return pair, true
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

func fdNote(err error) string {
	if procinfo.IsDenied(err) {
		return err.Error() + " (" + procinfo.DeniedHint("listing /proc/PID/fd") + ")"
	}
	return err.Error()
}
