package procinfo

import (
	"fmt"
	"io"
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
func ParseStat(line string) (Stat, error) {
	var s Stat
	open := strings.IndexByte(line, '(')
	shut := strings.LastIndexByte(line, ')')
	if open < 0 || shut < open {
		return s, fmt.Errorf("%w stat: no (comm) in %.40q", ErrParse, line)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line[:open]))
	if err != nil {
		return s, fmt.Errorf("%w stat: pid: %v", ErrParse, err)
	}
	s.PID, s.Comm = pid, line[open+1:shut]
	f := strings.Fields(line[shut+1:])
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
		if *x.dst, err = strconv.Atoi(f[x.field-3]); err != nil {
			return s, fmt.Errorf("%w stat field %d: %v", ErrParse, x.field, err)
		}
	}
	if s.Flags, err = strconv.ParseUint(f[9-3], 10, 64); err != nil {
		return s, fmt.Errorf("%w stat field 9 (flags): %v", ErrParse, err)
	}
	if len(f) > 22-3 {
		if s.StartTime, err = strconv.ParseUint(f[22-3], 10, 64); err != nil {
			return s, fmt.Errorf("%w stat field 22 (starttime): %v", ErrParse, err)
		}
	}
	return s, nil
}

// Stat reads and parses the task's stat file.
func (p *Proc) Stat() (Stat, error) {
	return readParsed(p, "stat", func(r io.Reader) (Stat, error) {
		b, err := io.ReadAll(r)
		if err != nil {
			return Stat{}, err
		}
		return ParseStat(string(b))
	})
}
