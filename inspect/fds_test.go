package inspect

import (
	"strings"
	"testing"
)

func TestFDDisagreements(t *testing.T) {
	k := func(name string, ino uint64) *WalkFD { return &WalkFD{Name: name, Ino: ino} }
	p := func(link string, ino uint64) *ProcFD { return &ProcFD{Link: link, Inode: ino} }
	long := strings.Repeat("x", 80)
	for _, c := range []struct {
		name string
		k    *WalkFD
		p    *ProcFD
		want string // substring of the only disagreement, "" for none
	}{
		{"regular", k("hosts", 7), p("/etc/hosts", 7), ""},
		{"root dir", k("/", 2), p("/", 2), ""},
		{"deleted", k("x with space", 9), p("/tmp/x with space (deleted)", 9), ""},
		{"memfd", k("memfd:hello", 5), p("/memfd:hello (deleted)", 5), ""},
		{"name kept to 63 bytes", k(long[:63], 3), p("/tmp/"+long, 3), ""},
		{"pipe: d_dname", k("", 4), p("pipe:[4]", 4), ""},
		{"socket: d_dname", k("TCP", 5), p("socket:[5]", 5), ""},
		{"nsfs: d_dname", k("/", 6), p("net:[6]", 6), ""},
		{"closed between", nil, p("/etc/hosts", 7), "closed between"},
		{"opened between", k("hosts", 7), nil, "opened between"},
		{"fd reused", k("hosts", 7), p("/etc/passwd", 8), "inode differs"},
		{"bind mount", k("resolv.conf.real", 7), p("/etc/resolv.conf", 7), "is not the last component"},
	} {
		d := disagreements(c.k, c.p)
		switch {
		case c.want == "" && len(d) != 0:
			t.Errorf("%s: disagreements %q, want none", c.name, d)
		case c.want != "" && (len(d) != 1 || !strings.Contains(d[0], c.want)):
			t.Errorf("%s: disagreements %q, want one saying %q", c.name, d, c.want)
		}
	}
}
