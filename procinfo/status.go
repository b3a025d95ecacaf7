package procinfo

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Status is /proc/PID/status, the fields of task_struct that nsinspect
// shows. Absent fields keep their zero value; Umask is -1 when absent
// (kernels before 4.7, and kernel threads report it anyway).
type Status struct {
	Name    string
	Umask   int
	State   string // "S (sleeping)"
	Tgid    int
	Pid     int
	PPid    int
	Uid     [4]uint32 // real, effective, saved, filesystem
	Gid     [4]uint32
	NStgid  []int // tgid in each pid namespace, outermost first
	NSpid   []int
	Threads int
	SigPnd  uint64
	ShdPnd  uint64
	SigBlk  uint64
	SigIgn  uint64
	SigCgt  uint64
	CapEff  uint64
	Kthread bool // "Kthread: 1" (Linux 6.8+)
	// CpusAllowedList is the CPU affinity as a list ("0-3,8").
	CpusAllowedList string
}

// ParseStatus parses the text of /proc/PID/status.
func ParseStatus(r io.Reader) (Status, error) {
	s := Status{Umask: -1}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		if err := s.set(key, val); err != nil {
			return s, fmt.Errorf("%w status field %s %q: %v", ErrParse, key, val, err)
		}
	}
	if err := sc.Err(); err != nil {
		return s, fmt.Errorf("%w status: %v", ErrParse, err)
	}
	if s.Pid == 0 && s.Name == "" {
		return s, fmt.Errorf("%w status: no Name or Pid field", ErrParse)
	}
	return s, nil
}

func (s *Status) set(key, val string) (err error) {
	mask := func(m *uint64) { *m, err = strconv.ParseUint(val, 16, 64) }
	switch key {
	case "Name":
		s.Name = val
	case "Umask":
		var u uint64
		u, err = strconv.ParseUint(val, 8, 32)
		s.Umask = int(u)
	case "State":
		s.State = val
	case "Tgid":
		s.Tgid, err = strconv.Atoi(val)
	case "Pid":
		s.Pid, err = strconv.Atoi(val)
	case "PPid":
		s.PPid, err = strconv.Atoi(val)
	case "Uid":
		err = parseIDs(val, &s.Uid)
	case "Gid":
		err = parseIDs(val, &s.Gid)
	case "NStgid":
		s.NStgid, err = parseInts(val)
	case "NSpid":
		s.NSpid, err = parseInts(val)
	case "Threads":
		s.Threads, err = strconv.Atoi(val)
	case "SigPnd":
		mask(&s.SigPnd)
	case "ShdPnd":
		mask(&s.ShdPnd)
	case "SigBlk":
		mask(&s.SigBlk)
	case "SigIgn":
		mask(&s.SigIgn)
	case "SigCgt":
		mask(&s.SigCgt)
	case "CapEff":
		mask(&s.CapEff)
	case "Kthread":
		s.Kthread = val == "1"
	case "Cpus_allowed_list":
		s.CpusAllowedList = val
	}
	return err
}

func parseIDs(val string, out *[4]uint32) error {
	f := strings.Fields(val)
	if len(f) != 4 {
		return fmt.Errorf("want 4 ids, got %d", len(f))
	}
	for i, x := range f {
		v, err := strconv.ParseUint(x, 10, 32)
		if err != nil {
			return err
		}
		out[i] = uint32(v)
	}
	return nil
}

func parseInts(val string) ([]int, error) {
	f := strings.Fields(val)
	out := make([]int, len(f))
	for i, x := range f {
		v, err := strconv.Atoi(x)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// Status reads and parses the task's status file.
func (p *Proc) Status() (Status, error) {
	return readParsed(p, "status", ParseStatus)
}
