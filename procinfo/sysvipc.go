package procinfo

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
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
func ParseSysvipc(r io.Reader) ([]IPCObject, error) {
	sc := bufio.NewScanner(r)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("%w sysvipc: %v", ErrParse, err)
		}
		return nil, fmt.Errorf("%w sysvipc: empty file, want a header line", ErrParse)
	}
	header := strings.Fields(sc.Text())
	uidCol := -1
	for i, h := range header {
		if h == "uid" {
			uidCol = i
		}
	}
	if len(header) < 3 || header[0] != "key" || uidCol < 0 {
		return nil, fmt.Errorf("%w sysvipc: header %q lacks key/id/perms/uid", ErrParse, sc.Text())
	}
	out := []IPCObject{}
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		// key, id and perms are always read, whatever column uid is in.
		if len(f) <= uidCol || len(f) < 3 {
			return nil, fmt.Errorf("%w sysvipc: line %q has %d fields, want more than %d", ErrParse, sc.Text(), len(f), max(uidCol, 2))
		}
		key, err1 := strconv.ParseInt(f[0], 10, 32)
		id, err2 := strconv.Atoi(f[1])
		uid, err3 := strconv.ParseUint(f[uidCol], 10, 32)
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("%w sysvipc: bad numbers in %q", ErrParse, sc.Text())
		}
		out = append(out, IPCObject{Key: int32(key), ID: id, Perms: f[2], UID: uint32(uid)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w sysvipc: %v", ErrParse, err)
	}
	return out, nil
}
