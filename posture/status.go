package posture

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// StatusField is one line of /proc/PID/status that posture reads: its
// value and where it stood. Line is 0 when the kernel did not write it.
type StatusField struct {
	Value uint64
	Line  int    // 1-based
	Text  string // the whole line as read
}

// Present reports whether the line was in the file.
func (f StatusField) Present() bool { return f.Line > 0 }

// Status is the security lines of /proc/PID/status (proc_pid_status(5)):
// the five capability sets, NoNewPrivs (Linux 4.10+), Seccomp (with
// CONFIG_SECCOMP) and Seccomp_filters (Linux 5.9+).
type Status struct {
	CapInh, CapPrm, CapEff, CapBnd, CapAmb StatusField
	NoNewPrivs                             StatusField
	Seccomp                                StatusField
	SeccompFilters                         StatusField
}

// ParseStatus parses the text of /proc/PID/status. Lines it does not read
// are skipped; a line it reads whose value does not parse is an error that
// names the line.
func ParseStatus(b []byte) (Status, error) {
	var s Status
	fields := map[string]*StatusField{
		"CapInh": &s.CapInh, "CapPrm": &s.CapPrm, "CapEff": &s.CapEff,
		"CapBnd": &s.CapBnd, "CapAmb": &s.CapAmb,
		"NoNewPrivs": &s.NoNewPrivs, "Seccomp": &s.Seccomp,
		"Seccomp_filters": &s.SeccompFilters,
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		key, val, ok := strings.Cut(sc.Text(), ":")
		f := fields[key]
		if !ok || f == nil {
			continue
		}
		if f.Present() {
			return s, fmt.Errorf("%w status line %d: %s appears twice (first on line %d)", ErrParse, n, key, f.Line)
		}
		base := 10
		if strings.HasPrefix(key, "Cap") {
			base = 16 // capability sets are 16 hex digits
		}
		v, err := strconv.ParseUint(strings.TrimSpace(val), base, 64)
		if err != nil {
			return s, fmt.Errorf("%w status line %d: %s %q: %v", ErrParse, n, key, strings.TrimSpace(val), err)
		}
		*f = StatusField{Value: v, Line: n, Text: sc.Text()}
	}
	if err := sc.Err(); err != nil {
		return s, fmt.Errorf("%w status: %v", ErrParse, err)
	}
	return s, nil
}

func (f StatusField) evidence(file string) Evidence {
	return Evidence{File: file, Line: f.Line, Text: f.Text}
}

// Capabilities turns the five Cap lines into names; file is the path the
// text was read from, for the evidence.
func (s Status) Capabilities(file string) Capabilities {
	c := Capabilities{Evidence: []Evidence{}}
	sets := []struct {
		name string
		f    StatusField
		out  *[]string
	}{
		{"CapInh", s.CapInh, &c.Inheritable}, {"CapPrm", s.CapPrm, &c.Permitted},
		{"CapEff", s.CapEff, &c.Effective}, {"CapBnd", s.CapBnd, &c.Bounding},
		{"CapAmb", s.CapAmb, &c.Ambient},
	}
	var missing []string
	for _, set := range sets {
		*set.out = CapNames(set.f.Value)
		if !set.f.Present() {
			missing = append(missing, set.name)
			continue
		}
		c.Evidence = append(c.Evidence, set.f.evidence(file))
	}
	if len(missing) > 0 {
		// CapAmb is Linux 4.3+; the others are as old as /proc/PID/status.
		c.Err = fmt.Sprintf("%s has no %s line", file, strings.Join(missing, ", "))
	}
	return c
}

// NoNewPrivsFlag is the NoNewPrivs line (prctl(2) PR_SET_NO_NEW_PRIVS).
func (s Status) NoNewPrivsFlag(file string) Flag {
	if !s.NoNewPrivs.Present() {
		return Flag{Evidence: []Evidence{}, Err: file + " has no NoNewPrivs line (it is Linux 4.10+)"}
	}
	return Flag{Value: s.NoNewPrivs.Value != 0, Evidence: []Evidence{s.NoNewPrivs.evidence(file)}}
}

// seccompModes are SECCOMP_MODE_DISABLED, _STRICT and _FILTER.
var seccompModes = []string{"disabled", "strict", "filter"}

// SeccompMode is the Seccomp and Seccomp_filters lines. Filters is -1
// where the kernel has no Seccomp_filters line (before 5.9).
func (s Status) SeccompMode(file string) Seccomp {
	sc := Seccomp{Filters: -1, Evidence: []Evidence{}}
	if !s.Seccomp.Present() {
		sc.Err = file + " has no Seccomp line (a kernel without CONFIG_SECCOMP)"
		return sc
	}
	sc.Evidence = append(sc.Evidence, s.Seccomp.evidence(file))
	if s.Seccomp.Value < uint64(len(seccompModes)) {
		sc.Mode = seccompModes[s.Seccomp.Value]
	} else {
		sc.Mode = "mode " + strconv.FormatUint(s.Seccomp.Value, 10)
		sc.Err = fmt.Sprintf("%s line %d: unknown seccomp mode %d", file, s.Seccomp.Line, s.Seccomp.Value)
	}
	if s.SeccompFilters.Present() {
		sc.Filters = int(min(s.SeccompFilters.Value, 1<<31-1))
		sc.Evidence = append(sc.Evidence, s.SeccompFilters.evidence(file))
	}
	return sc
}

// capNames are the capabilities of include/uapi/linux/capability.h,
// indexed by bit; CAP_CHECKPOINT_RESTORE (40, Linux 5.9) is the last.
var capNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// CapNames returns the names of the bits set in a capability mask, lowest
// bit first; a bit newer than this table is "CAP_<n>". An empty set is an
// empty (not nil) slice.
func CapNames(mask uint64) []string {
	out := []string{}
	for bit := 0; bit < 64; bit++ {
		if mask&(1<<bit) == 0 {
			continue
		}
		if bit < len(capNames) {
			out = append(out, capNames[bit])
		} else {
			out = append(out, "CAP_"+strconv.Itoa(bit))
		}
	}
	return out
}

// CapBit returns the bit of a capability name ("CAP_SYS_ADMIN" or
// "CAP_45"), or -1.
// CapName is the name of capability bit: "CAP_SYS_ADMIN" for 21, and
// "CAP_<bit>" for a bit newer than the table.
func CapName(bit int) string {
	if bit >= 0 && bit < len(capNames) {
		return capNames[bit]
	}
	return "CAP_" + strconv.Itoa(bit)
}

func CapBit(name string) int {
	for i, n := range capNames {
		if n == name {
			return i
		}
	}
	if n, err := strconv.Atoi(strings.TrimPrefix(name, "CAP_")); err == nil && n >= len(capNames) && n < 64 && strings.HasPrefix(name, "CAP_") {
		return n
	}
	return -1
}
