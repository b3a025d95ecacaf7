package posture

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	"github.com/nsinspect/nsinspect/procinfo"
)

// ParseIDMap parses the text of /proc/PID/uid_map or gid_map
// (user_namespaces(7)), read from file, into an IDMap with one evidence
// line per range. A map never written (a new user namespace before its
// owner writes it) has no ranges: no id maps, so root is nobody outside.
func ParseIDMap(b []byte, file string) (IDMap, error) {
	m := IDMap{Ranges: []IDRange{}, Evidence: []Evidence{}}
	// One line at a time through procinfo's parser (the one parser of
	// this file), so that each range keeps its line as evidence.
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		rs, err := procinfo.ParseIDMap(strings.NewReader(sc.Text()))
		if err != nil {
			return m, fmt.Errorf("%s line %d: %w", file, n, err)
		}
		r := IDRange{Inside: rs[0].Inside, Outside: rs[0].Outside, Count: rs[0].Count}
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
