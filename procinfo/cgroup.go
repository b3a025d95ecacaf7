package procinfo

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Cgroup is one line of /proc/PID/cgroup (cgroups(7)):
// "hierarchy-ID:controller-list:cgroup-path". The cgroup v2 line is
// "0::/path"; paths are relative to the reader's cgroup namespace root.
type Cgroup struct {
	HierarchyID int      `json:"hierarchy_id"`
	Controllers []string `json:"controllers"` // empty for cgroup v2; "name=systemd" for a named v1 hierarchy
	Path        string   `json:"path"`
}

// ParseCgroup parses the text of /proc/PID/cgroup. The path is the rest
// of the line after the second colon, so it may hold colons and spaces.
func ParseCgroup(r io.Reader) ([]Cgroup, error) { return parseReader(r, parseCgroup) }

func parseCgroup(text []byte, readErr error) ([]Cgroup, error) {
	out := perLine[Cgroup](text)
	all := string(text) // one copy: the fields kept are slices of it
	sc := lines{text: text, max: bufio.MaxScanTokenSize, err: readErr}
	for sc.scan() {
		if len(sc.line) == 0 {
			continue
		}
		line := sc.in(all)
		id, rest, ok1 := strings.Cut(line, ":")
		controllers, path, ok2 := strings.Cut(rest, ":")
		if !ok1 || !ok2 {
			return orNil(out), fmt.Errorf("%w cgroup: want ID:controllers:path, got %q", ErrParse, line)
		}
		n, err := strconv.Atoi(id)
		if err != nil || n < 0 {
			return orNil(out), fmt.Errorf("%w cgroup: hierarchy id in %q", ErrParse, line)
		}
		c := Cgroup{HierarchyID: n, Path: path, Controllers: []string{}}
		if controllers != "" {
			c.Controllers = strings.Split(controllers, ",")
		}
		out = append(out, c)
	}
	if sc.err != nil {
		return orNil(out), fmt.Errorf("%w cgroup: %v", ErrParse, sc.err)
	}
	return orNil(out), nil
}

// Cgroups reads the task's cgroup file.
func (p *Proc) Cgroups() ([]Cgroup, error) {
	return readParsed(p, "cgroup", parseCgroup)
}
