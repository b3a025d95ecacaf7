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
func ParseCgroup(r io.Reader) ([]Cgroup, error) {
	var out []Cgroup
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			return out, fmt.Errorf("%w cgroup: want ID:controllers:path, got %q", ErrParse, line)
		}
		id, err := strconv.Atoi(f[0])
		if err != nil || id < 0 {
			return out, fmt.Errorf("%w cgroup: hierarchy id in %q", ErrParse, line)
		}
		c := Cgroup{HierarchyID: id, Path: f[2], Controllers: []string{}}
		if f[1] != "" {
			c.Controllers = strings.Split(f[1], ",")
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("%w cgroup: %v", ErrParse, err)
	}
	return out, nil
}

// Cgroups reads the task's cgroup file.
func (p *Proc) Cgroups() ([]Cgroup, error) {
	return readParsed(p, "cgroup", ParseCgroup)
}
