package procinfo

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// IPCObject is one line of /proc/sysvipc/{shm,sem,msg}: a SysV IPC object
// of the IPC namespace of the thread that opened the file.
type IPCObject struct {
	Key   int32  `json:"key"`
	ID    int    `json:"id"`
	Perms string `json:"perms"` // octal, as the file prints it
	UID   uint32 `json:"uid"`
}

// ParseSysvipc parses one of the /proc/sysvipc files. Their first line
// names the columns; every kind starts with key, id (shmid/semid/msqid)
// and perms, and has a uid column.
func ParseSysvipc(r io.Reader) ([]IPCObject, error) { return parseReader(r, parseSysvipc) }

func parseSysvipc(text []byte, readErr error) ([]IPCObject, error) {
	sc := lines{text: text, max: bufio.MaxScanTokenSize, err: readErr}
	if !sc.scan() {
		if sc.err != nil {
			return nil, fmt.Errorf("%w sysvipc: %v", ErrParse, sc.err)
		}
		return nil, fmt.Errorf("%w sysvipc: empty file, want a header line", ErrParse)
	}
	var hbuf, buf [24][]byte // a line's fields, on the stack (shm has 16)
	header := fields(sc.line, hbuf[:0])
	uidCol := -1
	for i, h := range header {
		if string(h) == "uid" {
			uidCol = i
		}
	}
	if len(header) < 3 || string(header[0]) != "key" || uidCol < 0 {
		return nil, fmt.Errorf("%w sysvipc: header %q lacks key/id/perms/uid", ErrParse, sc.line)
	}
	out := []IPCObject{}
	for sc.scan() {
		f := fields(sc.line, buf[:0])
		if len(f) == 0 {
			continue
		}
		if len(f) <= max(uidCol, 2) { // key, id and perms are read too
			return nil, fmt.Errorf("%w sysvipc: line %q has %d fields, want more than %d", ErrParse, sc.line, len(f), max(uidCol, 2))
		}
		key, err1 := strconv.ParseInt(string(f[0]), 10, 32)
		id, err2 := strconv.Atoi(string(f[1]))
		uid, err3 := strconv.ParseUint(string(f[uidCol]), 10, 32)
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("%w sysvipc: bad numbers in %q", ErrParse, sc.line)
		}
		out = append(out, IPCObject{Key: int32(key), ID: id, Perms: string(f[2]), UID: uint32(uid)})
	}
	if sc.err != nil {
		return nil, fmt.Errorf("%w sysvipc: %v", ErrParse, sc.err)
	}
	return out, nil
}
