package posture

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// ParseIDMap parses the text of /proc/PID/uid_map or gid_map
// (user_namespaces(7)), read from file, into an IDMap with one evidence
// line per range. A map never written (a new user namespace before its
// owner writes it) has no ranges: no id maps, so root is nobody outside.
func ParseIDMap(b []byte, file string) (IDMap, error) {
	m := IDMap{Ranges: []IDRange{}, Evidence: []Evidence{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return m, fmt.Errorf("%w %s line %d: want 3 numbers, got %q", ErrParse, file, n, sc.Text())
		}
		var v [3]uint32
		for i, x := range f {
			u, err := strconv.ParseUint(x, 10, 32)
			if err != nil {
				return m, fmt.Errorf("%w %s line %d: %v", ErrParse, file, n, err)
			}
			v[i] = uint32(u)
		}
		r := IDRange{Inside: v[0], Outside: v[1], Count: v[2]}
		m.Ranges = append(m.Ranges, r)
		m.Evidence = append(m.Evidence, Evidence{File: file, Line: n, Text: sc.Text()})
		if r.Count > 0 && r.Inside == 0 && r.Outside == 0 {
			m.RootIsHostRoot = true
		}
	}
	if err := sc.Err(); err != nil {
		return m, fmt.Errorf("%w %s: %v", ErrParse, file, err)
	}
	if len(m.Ranges) == 0 {
		m.Evidence = append(m.Evidence, Evidence{File: file}) // line 0: the whole file, empty
	}
	// The kernel's initial user namespace: every 32-bit id but the
	// invalid (uid_t)-1 maps to itself.
	m.Identity = len(m.Ranges) == 1 && m.Ranges[0] == IDRange{Inside: 0, Outside: 0, Count: 4294967295}
	return m, nil
}
