package procinfo

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
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
func ParseStatus(r io.Reader) (Status, error) { return parseReader(r, parseStatus) }

func parseStatus(text []byte, readErr error) (Status, error) {
	s := Status{Umask: -1}
	sc := lines{text: text, max: bufio.MaxScanTokenSize, err: readErr}
	for sc.scan() {
		key, val, ok := bytes.Cut(sc.line, []byte{':'})
		if !ok {
			continue
		}
		val = bytes.TrimSpace(val)
		if err := s.set(key, val); err != nil {
			return s, fmt.Errorf("%w status field %s %q: %v", ErrParse, key, val, err)
		}
	}
	if sc.err != nil {
		return s, fmt.Errorf("%w status: %v", ErrParse, sc.err)
	}
	if s.Pid == 0 && s.Name == "" {
		return s, fmt.Errorf("%w status: no Name or Pid field", ErrParse)
	}
	return s, nil
}

// set stores one field; val is converted to a string only where it is
// kept (strconv does not keep its argument).
func (s *Status) set(key, val []byte) (err error) {
	mask := func(m *uint64) { *m, err = strconv.ParseUint(string(val), 16, 64) }
	switch string(key) {
	case "Name":
		s.Name = string(val)
	case "Umask":
		var u uint64
		u, err = strconv.ParseUint(string(val), 8, 32)
		s.Umask = int(u)
	case "State":
		s.State = string(val)
	case "Tgid":
		s.Tgid, err = strconv.Atoi(string(val))
	case "Pid":
		s.Pid, err = strconv.Atoi(string(val))
	case "PPid":
		s.PPid, err = strconv.Atoi(string(val))
	case "Uid":
		err = parseIDs(val, &s.Uid)
	case "Gid":
		err = parseIDs(val, &s.Gid)
	case "NStgid":
		s.NStgid, err = parseInts(val)
	case "NSpid":
		s.NSpid, err = parseInts(val)
	case "Threads":
		s.Threads, err = strconv.Atoi(string(val))
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
		s.Kthread = string(val) == "1"
	case "Cpus_allowed_list":
		s.CpusAllowedList = string(val)
	}
	return err
}

func parseIDs(val []byte, out *[4]uint32) error {
	var buf [8][]byte
	f := fields(val, buf[:0])
	if len(f) != 4 {
		return fmt.Errorf("want 4 ids, got %d", len(f))
	}
	for i, x := range f {
		v, err := strconv.ParseUint(string(x), 10, 32)
		if err != nil {
			return err
		}
		out[i] = uint32(v)
	}
	return nil
}

func parseInts(val []byte) ([]int, error) {
	var buf [8][]byte
	f := fields(val, buf[:0])
	out := make([]int, len(f))
	for i, x := range f {
		v, err := strconv.Atoi(string(x))
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// Status reads and parses the task's status file.
func (p *Proc) Status() (Status, error) {
	return readParsed(p, "status", parseStatus)
}
