package discover

import (
	"bytes"
	"strings"

	"github.com/nsinspect/nsinspect/namespaces"
)

// linkTypes maps the name before ":[" in an nsfs link ("net:[4026531840]")
// to its type. pid_for_children and time_for_children links read "pid:[..]"
// and "time:[..]", so the names are the types' own.
var linkTypes = func() map[string]namespaces.Type {
	m := make(map[string]namespaces.Type, len(namespaces.Types))
	for _, t := range namespaces.Types {
		m[t.Name()] = t
	}
	return m
}()

// parseNSLink parses the target of an nsfs link, "net:[4026531840]". ok is
// false for anything else, including other anonymous inodes that look alike
// ("pipe:[123]", "socket:[123]"), which is what makes it usable on fd links.
func parseNSLink(b []byte) (t namespaces.Type, ino uint64, ok bool) {
	colon := bytes.IndexByte(b, ':')
	if colon <= 0 || len(b) < colon+4 || b[colon+1] != '[' || b[len(b)-1] != ']' {
		return 0, 0, false
	}
	// The map lookup with string(b[:colon]) does not allocate.
	t, ok = linkTypes[string(b[:colon])]
	if !ok {
		return 0, 0, false
	}
	ino, ok = parseUint(b[colon+2 : len(b)-1])
	if !ok || ino == 0 {
		return 0, 0, false
	}
	return t, ino, true
}

// parseUint parses a non-empty decimal number as the kernel prints one
// (no sign, no leading zeros) without allocating; ok is false on anything
// else or on overflow.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 || (len(b) > 1 && b[0] == '0') {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (1<<64-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
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
// line it cannot read names no namespace it could open anyway.
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
		t, ino, ok := parseNSLink(f[3])
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

// unescapeMountinfo undoes the kernel's octal escapes in mountinfo paths
// (seq_path escapes space, tab, newline and backslash as \040, \011, \012,
// \134). ok is false on a malformed escape.
func unescapeMountinfo(b []byte) (string, bool) {
	if bytes.IndexByte(b, '\\') < 0 {
		return string(b), true
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			out = append(out, b[i])
			continue
		}
		if i+4 > len(b) {
			return "", false
		}
		v := 0
		for _, c := range b[i+1 : i+4] {
			if c < '0' || c > '7' {
				return "", false
			}
			v = v*8 + int(c-'0')
		}
		if v > 0xff {
			return "", false
		}
		out = append(out, byte(v))
		i += 3
	}
	return string(out), true
}
