package procinfo

import (
	"fmt"
	"strconv"
	"strings"
)

// PF_KTHREAD is the task flag (include/linux/sched.h) that marks a kernel
// thread, visible as bit 0x00200000 of field 9 of /proc/PID/stat.
const PF_KTHREAD = 0x00200000

// Stat holds the fields of /proc/PID/stat that nsinspect uses.
type Stat struct {
	PID       int
	Comm      string // without the parentheses
	State     byte
	PPID      int
	PGRP      int
	Session   int
	Flags     uint64 // task->flags (PF_*)
	NumThread int
	StartTime uint64 // clock ticks after boot
}

// IsKthread reports whether PF_KTHREAD is set.
func (s Stat) IsKthread() bool { return s.Flags&PF_KTHREAD != 0 }

// ParseStat parses one line of /proc/PID/stat. comm may hold spaces and
// parentheses, so the fields after it are found from the last ')'.
func ParseStat(line string) (Stat, error) { return parseStat(line) }

// parseStat is ParseStat for the string a caller has and the bytes Stat
// reads, so that only comm is copied out of those.
func parseStat[S ~string | ~[]byte](line S) (Stat, error) {
	var s Stat
	open, shut := -1, -1
	for i := 0; i < len(line) && open < 0; i++ {
		if line[i] == '(' {
			open = i
		}
	}
	for i := len(line) - 1; i >= 0 && shut < 0; i-- {
		if line[i] == ')' {
			shut = i
		}
	}
	if open < 0 || shut < open {
		return s, fmt.Errorf("%w stat: no (comm) in %.40q", ErrParse, line)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(line[:open])))
	if err != nil {
		return s, fmt.Errorf("%w stat: pid: %v", ErrParse, err)
	}
	s.PID, s.Comm = pid, string(line[open+1:shut])
	var buf [64]S // the 50 fields after comm, on the stack
	f := fields(line[shut+1:], buf[:0])
	// f[0] is field 3 (state); field n is f[n-3].
	if len(f) < 20 || len(f[0]) != 1 {
		return s, fmt.Errorf("%w stat: %d fields after comm, want at least 20", ErrParse, len(f))
	}
	s.State = f[0][0]
	ints := []struct {
		dst   *int
		field int
	}{{&s.PPID, 4}, {&s.PGRP, 5}, {&s.Session, 6}, {&s.NumThread, 20}}
	for _, x := range ints {
		if *x.dst, err = strconv.Atoi(string(f[x.field-3])); err != nil {
			return s, fmt.Errorf("%w stat field %d: %v", ErrParse, x.field, err)
		}
	}
	if s.Flags, err = strconv.ParseUint(string(f[9-3]), 10, 64); err != nil {
		return s, fmt.Errorf("%w stat field 9 (flags): %v", ErrParse, err)
	}
	if len(f) > 22-3 {
		if s.StartTime, err = strconv.ParseUint(string(f[22-3]), 10, 64); err != nil {
			return s, fmt.Errorf("%w stat field 22 (starttime): %v", ErrParse, err)
		}
	}
	return s, nil
}

// Stat reads and parses the task's stat file.
func (p *Proc) Stat() (Stat, error) {
	return readParsed(p, "stat", func(b []byte, _ error) (Stat, error) { return parseStat(b) })
}
