package namespaces

import "github.com/nsinspect/nsinspect/internal/decimal"

// linkTypes maps the name before ":[" in an nsfs link ("net:[4026531840]")
// to its type. pid_for_children and time_for_children links read "pid:[..]"
// and "time:[..]", so the names are the types' own.
var linkTypes = func() map[string]Type {
	m := make(map[string]Type, len(Types))
	for _, t := range Types {
		m[t.Name()] = t
	}
	return m
}()

// ParseLink parses the text of an nsfs link, as readlink(2) of
// /proc/PID/ns/X or of an fd on an nsfs file gives it: "net:[4026531840]".
// ok is false for anything else, including the other anonymous inodes that
// look alike ("pipe:[123]", "socket:[123]"), so it can be used on fd links;
// for inode 0, which nsfs never hands out; and for a number the kernel
// would not print (leading zeros, a sign, more than 64 bits). It does not
// allocate: a pass over every fd of every process calls it.
func ParseLink(b []byte) (t Type, ino uint64, ok bool) { return parseLink(b) }

// ParseLinkString is ParseLink on a string.
func ParseLinkString(s string) (t Type, ino uint64, ok bool) { return parseLink(s) }

func parseLink[S ~string | ~[]byte](b S) (t Type, ino uint64, ok bool) {
	colon := -1
	for i := 0; i < len(b); i++ {
		if b[i] == ':' {
			colon = i
			break
		}
	}
	if colon <= 0 || len(b) < colon+4 || b[colon+1] != '[' || b[len(b)-1] != ']' {
		return 0, 0, false
	}
	// The lookup with string(b[:colon]) does not allocate.
	t, ok = linkTypes[string(b[:colon])]
	if !ok {
		return 0, 0, false
	}
	ino, ok = decimal.Parse(b[colon+2 : len(b)-1])
	if !ok || ino == 0 {
		return 0, 0, false
	}
	return t, ino, true
}
