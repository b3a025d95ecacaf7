package procinfo

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/nsinspect/nsinspect/namespaces"
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
func ParseMountInfo(r io.Reader) ([]Mount, error) { return parseReader(r, parseMountInfo) }

// maxMountLine is the length from which a mountinfo line is refused
// (bufio.ErrTooLong): the limit its bufio.Scanner had.
const maxMountLine = 1 << 20

func parseMountInfo(text []byte, readErr error) ([]Mount, error) {
	out := perLine[Mount](text)
	all := string(text) // one copy: the fields kept are slices of it
	sc := lines{text: text, max: maxMountLine, err: readErr}
	for line := 1; sc.scan(); line++ {
		m, err := parseMountLine(sc.in(all))
		if err != nil {
			return orNil(out), fmt.Errorf("%w mountinfo line %d: %v", ErrParse, line, err)
		}
		out = append(out, m)
	}
	if sc.err != nil {
		return orNil(out), fmt.Errorf("%w mountinfo: %v", ErrParse, sc.err)
	}
	return orNil(out), nil
}

// parseMountLine parses one line: the fields that need no unescaping are
// slices of it.
func parseMountLine(s string) (Mount, error) {
	var m Mount
	var buf [24]string // a line's fields, on the stack
	f := splitSpace(s, buf[:0])
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
	unescape := func(what, s string) string {
		v, ok := unescapeMountinfo(s)
		if !ok && err == nil {
			err = fmt.Errorf("%s: bad octal escape in %q", what, s)
		}
		return v
	}
	m.Root = unescape("root", f[3])
	m.MountPoint = unescape("mount point", f[4])
	m.Source = unescape("source", f[sep+2])
	if err != nil {
		return m, err
	}
	m.Options = f[5]
	m.Optional = append(make([]string, 0, sep-6), f[6:sep]...)
	m.FSType = f[sep+1]
	m.SuperOptions = strings.Join(f[sep+3:], " ")
	return m, nil
}

// splitSpace is strings.Split(s, " "), appending to dst.
func splitSpace(s string, dst []string) []string {
	for {
		i := strings.IndexByte(s, ' ')
		if i < 0 {
			return append(dst, s)
		}
		dst = append(dst, s[:i])
		s = s[i+1:]
	}
}

// UnescapeMountinfo undoes the kernel's mangle() in fs/proc_namespace.c,
// which writes the bytes " \t\n\\" of a path in mountinfo as a backslash
// and three octal digits (\040, \011, \012, \134). ok is false on a
// malformed escape.
func UnescapeMountinfo(b []byte) (string, bool) { return unescapeMountinfo(b) }

func unescapeMountinfo[S ~string | ~[]byte](s S) (string, bool) {
	i := 0
	for i < len(s) && s[i] != '\\' {
		i++
	}
	if i == len(s) {
		return string(s), true
	}
	out := make([]byte, i, len(s))
	copy(out, s[:i])
	for ; i < len(s); i++ {
		if s[i] != '\\' {
			out = append(out, s[i])
			continue
		}
		if i+4 > len(s) {
			return "", false
		}
		v := 0
		for j := i + 1; j < i+4; j++ {
			if s[j] < '0' || s[j] > '7' {
				return "", false
			}
			v = v*8 + int(s[j]-'0')
		}
		if v > 0xff {
			return "", false
		}
		out = append(out, byte(v))
		i += 3
	}
	return string(out), true
}

// NSFSMount is one nsfs line of /proc/PID/mountinfo: a namespace kept alive
// by a bind mount, as ip-netns(8) makes under /run/netns.
type NSFSMount struct {
	Type       namespaces.Type
	Ino        uint64 // from the root field, "net:[4026532178]"
	MountPoint string // unescaped, in the reading process's mount namespace
}

// ParseNSFSMounts returns the nsfs mounts listed in the text of
// /proc/PID/mountinfo (proc_pid_mountinfo(5)). Lines that are not nsfs,
// or that do not parse, are skipped: a pass wants what it can find, and a
// line it cannot read names no namespace it could open anyway. Unlike
// ParseMountInfo it parses only what it returns, for a pass that reads the
// mountinfo of every mount namespace.
func ParseNSFSMounts(text []byte) []NSFSMount {
	var out []NSFSMount
	for len(text) > 0 {
		line := text
		if i := bytes.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = nil
		}
		// Fields: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS
		sep := bytes.Index(line, []byte(" - "))
		if sep < 0 {
			continue
		}
		if fstype, _, _ := bytes.Cut(line[sep+3:], []byte(" ")); string(fstype) != "nsfs" {
			continue
		}
		f := bytes.Fields(line[:sep])
		if len(f) < 6 {
			continue
		}
		t, ino, ok := namespaces.ParseLink(f[3])
		if !ok {
			continue
		}
		mp, ok := unescapeMountinfo(f[4])
		if !ok || !strings.HasPrefix(mp, "/") {
			continue
		}
		out = append(out, NSFSMount{Type: t, Ino: ino, MountPoint: mp})
	}
	return out
}

// MountInfo reads and parses the task's mountinfo.
func (p *Proc) MountInfo() ([]Mount, error) {
	return readParsed(p, "mountinfo", parseMountInfo)
}
