package posture

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/procinfo"
)

// CgroupLine is one line of /proc/PID/cgroup (cgroups(7)) with its place.
type CgroupLine struct {
	HierarchyID int
	Controllers []string // empty on the cgroup v2 line "0::/path"
	Path        string   // relative to the reader's cgroup namespace root
	Line        int
	Text        string
}

// ParseCgroup parses the text of /proc/PID/cgroup, keeping line numbers.
func ParseCgroup(b []byte) ([]CgroupLine, error) {
	out := []CgroupLine{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" {
			continue
		}
		// procinfo's parser (the one parser of this file), a line at a
		// time so that each keeps its place.
		cg, err := procinfo.ParseCgroup(strings.NewReader(line))
		if err != nil {
			return out, fmt.Errorf("cgroup line %d: %w", n, err)
		}
		c := CgroupLine{HierarchyID: cg[0].HierarchyID, Path: cg[0].Path, Controllers: cg[0].Controllers, Line: n, Text: line}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("%w cgroup: %v", ErrParse, err)
	}
	return out, nil
}

// LimitFile is where one limit of a cgroup is read, in the reader's
// mount namespace.
type LimitFile struct {
	File     string // "" when the limit cannot be read from here; Why says why
	Why      string
	Evidence []Evidence // the cgroup line and the reader's mountinfo line
}

// CgroupPlan says which files hold a task's pids and memory limits.
type CgroupPlan struct {
	Version int // 1 when a v1 hierarchy holds a limit, else 2
	Path    string
	Pids    LimitFile
	Memory  LimitFile
}

// PlanCgroup finds the files that hold the limits of the task whose
// /proc/PID/cgroup is cg, through the reader's own cgroupfs mounts (self
// is the reader's mountinfo, read from selfFile): a cgroup v1 hierarchy
// with the pids or memory controller (pids.max, memory.limit_in_bytes),
// else the cgroup2 hierarchy (pids.max, memory.max). A mount's root may
// be below the hierarchy's root (a cgroup namespace, a bind mount): it is
// subtracted from the task's path.
func PlanCgroup(cg []CgroupLine, self []MountLine, selfFile, cgFile string) (CgroupPlan, error) {
	var plan CgroupPlan
	v1 := func(controller, file string) (LimitFile, bool) {
		for _, c := range cg {
			if !contains(c.Controllers, controller) {
				continue
			}
			for _, m := range self {
				if m.FSType == "cgroup" && hasOption(m.SuperOptions, controller) {
					return limitFile(c, m, file, selfFile, cgFile), true
				}
			}
			return LimitFile{Why: fmt.Sprintf("the reader has no cgroup v1 mount with the %s controller", controller),
				Evidence: []Evidence{{File: cgFile, Line: c.Line, Text: c.Text}}}, true
		}
		return LimitFile{}, false
	}
	pids, pidsV1 := v1("pids", "pids.max")
	mem, memV1 := v1("memory", "memory.limit_in_bytes")
	if pidsV1 || memV1 {
		plan.Version = 1
		for _, c := range cg {
			if contains(c.Controllers, "memory") || plan.Path == "" && contains(c.Controllers, "pids") {
				plan.Path = c.Path
			}
		}
	}
	var unified *CgroupLine
	for i := range cg {
		if cg[i].HierarchyID == 0 && len(cg[i].Controllers) == 0 {
			unified = &cg[i]
		}
	}
	if plan.Version == 0 {
		if unified == nil {
			return plan, fmt.Errorf("%s has neither a cgroup v2 line (0::/path) nor a v1 pids or memory line", cgFile)
		}
		plan.Version, plan.Path = 2, unified.Path
	}
	v2 := func(file string) LimitFile {
		if unified == nil {
			return LimitFile{Why: cgFile + " has no cgroup v2 line (0::/path)"}
		}
		for _, m := range self {
			if m.FSType == "cgroup2" {
				return limitFile(*unified, m, file, selfFile, cgFile)
			}
		}
		return LimitFile{Why: "the reader has no cgroup2 mount", Evidence: []Evidence{{File: cgFile, Line: unified.Line, Text: unified.Text}}}
	}
	if plan.Pids = pids; !pidsV1 {
		plan.Pids = v2("pids.max")
	}
	if plan.Memory = mem; !memV1 {
		plan.Memory = v2("memory.max")
	}
	return plan, nil
}

func limitFile(c CgroupLine, m MountLine, file, selfFile, cgFile string) LimitFile {
	lf := LimitFile{Evidence: []Evidence{{File: cgFile, Line: c.Line, Text: c.Text}, m.evidence(selfFile)}}
	if !pathWithin(c.Path, m.Root) {
		lf.Why = fmt.Sprintf("cgroup %s is outside the reader's mount of its hierarchy (root %s at %s): not visible from here", c.Path, m.Root, m.MountPoint)
		return lf
	}
	rel := c.Path
	if m.Root != "/" {
		rel = strings.TrimPrefix(c.Path, m.Root)
	}
	lf.File = path.Join(m.MountPoint, rel, file)
	return lf
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// readLimit reads one limit file; a file that is not there (the root
// cgroup, a controller not enabled for the cgroup) is "" with the reason.
func readLimit(lf LimitFile, ev *[]Evidence) (string, error) {
	*ev = append(*ev, lf.Evidence...)
	if lf.File == "" {
		*ev = append(*ev, Evidence{Call: lf.Why})
		return "", nil
	}
	b, err := os.ReadFile(lf.File)
	if errors.Is(err, unix.ENOENT) {
		*ev = append(*ev, Evidence{File: lf.File, Call: "read " + lf.File + ": no such file (the root cgroup, or the controller is not enabled here)"})
		return "", nil
	}
	if err != nil {
		return "", err
	}
	v := strings.TrimSpace(string(b))
	*ev = append(*ev, Evidence{File: lf.File, Line: 1, Text: v})
	return v, nil
}

// UnlimitedV1Memory turns cgroup v1's "no limit" in memory.limit_in_bytes
// into "max", the word cgroup v2 uses, so that one value means unlimited
// on both. v1 prints PAGE_COUNTER_MAX pages in bytes, LONG_MAX rounded
// down to the page size (9223372036854771712 with 4 KiB pages; less with
// 64 KiB pages on arm64): any value of 2^62 or more is that. Other values
// are returned as they are.
func UnlimitedV1Memory(v string) string {
	n, err := strconv.ParseUint(v, 10, 64)
	if err == nil && n >= 1<<62 {
		return "max"
	}
	return v
}
