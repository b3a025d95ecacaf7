package procinfo

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Mount is one line of /proc/PID/mountinfo (proc(5)). Paths are unescaped:
// the kernel writes a space as \040, a tab as \011, a newline as \012 and a
// backslash as \134.
type Mount struct {
	ID           int
	ParentID     int
	Major, Minor uint32
	Root         string // path of the mount's root within its filesystem; ends in "//deleted" when that file was deleted
	MountPoint   string // relative to the reader's root
	Options      string // per-mount options
	Optional     []string
	FSType       string
	Source       string
	SuperOptions string
}

// ParseMountInfo parses the text of a mountinfo file.
func ParseMountInfo(r io.Reader) ([]Mount, error) {
	var out []Mount
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for line := 1; sc.Scan(); line++ {
		m, err := parseMountLine(sc.Text())
		if err != nil {
			return out, fmt.Errorf("%w mountinfo line %d: %v", ErrParse, line, err)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("%w mountinfo: %v", ErrParse, err)
	}
	return out, nil
}

func parseMountLine(s string) (Mount, error) {
	var m Mount
	f := strings.Split(s, " ")
	sep := -1
	for i := 6; i < len(f); i++ {
		if f[i] == "-" {
			sep = i
			break
		}
	}
	if sep < 0 || len(f) < sep+4 {
		return m, fmt.Errorf("want 6 fields, optional fields, \"-\" and 3 more in %.60q", s)
	}
	var err error
	if m.ID, err = strconv.Atoi(f[0]); err != nil {
		return m, fmt.Errorf("mount id: %v", err)
	}
	if m.ParentID, err = strconv.Atoi(f[1]); err != nil {
		return m, fmt.Errorf("parent id: %v", err)
	}
	maj, min, ok := strings.Cut(f[2], ":")
	ma, err1 := strconv.ParseUint(maj, 10, 32)
	mi, err2 := strconv.ParseUint(min, 10, 32)
	if !ok || err1 != nil || err2 != nil {
		return m, fmt.Errorf("major:minor %q", f[2])
	}
	m.Major, m.Minor = uint32(ma), uint32(mi)
	if m.Root, err = unescapeOctal(f[3]); err != nil {
		return m, fmt.Errorf("root: %v", err)
	}
	if m.MountPoint, err = unescapeOctal(f[4]); err != nil {
		return m, fmt.Errorf("mount point: %v", err)
	}
	m.Options = f[5]
	m.Optional = append(make([]string, 0, sep-6), f[6:sep]...)
	m.FSType = f[sep+1]
	if m.Source, err = unescapeOctal(f[sep+2]); err != nil {
		return m, fmt.Errorf("source: %v", err)
	}
	m.SuperOptions = strings.Join(f[sep+3:], " ")
	return m, nil
}

// unescapeOctal undoes the kernel's mangle() in fs/proc_namespace.c, which
// writes the bytes " \t\n\\" as a backslash and three octal digits.
func unescapeOctal(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+4 > len(s) {
			return "", fmt.Errorf("truncated escape in %q", s)
		}
		v, err := strconv.ParseUint(s[i+1:i+4], 8, 8)
		if err != nil {
			return "", fmt.Errorf("bad escape %q in %q", s[i:i+4], s)
		}
		b.WriteByte(byte(v))
		i += 3
	}
	return b.String(), nil
}

// MountInfo reads and parses the task's mountinfo.
func (p *Proc) MountInfo() ([]Mount, error) {
	return readParsed(p, "mountinfo", ParseMountInfo)
}
