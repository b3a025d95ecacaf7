package posture

import (
	"errors"
	"fmt"

	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/procinfo"
)

// afterReads runs between the reads and the final liveness check; the
// tests make a target exit there.
var afterReads = func() {}

// Read reads the posture of target. ref is the reference process, the
// host's (PID 1, or nsinspect itself when it runs on the host); nil means
// none is visible, as in an audit from inside a container. Each fact is
// read on its own: one that fails carries its Err and the others stand.
// Read fails only when target exits (the error matches
// procinfo.ErrProcessGone), so that nothing read from a pid reused
// meanwhile is ever reported as target's. A reference that exits makes
// the facts compared with it fail instead.
func Read(target, ref *procinfo.Proc) (*Facts, error) {
	f := &Facts{Namespaces: map[string]Namespace{}}
	dir := procDir(target)
	var gone error
	fail := func(err error) string {
		if errors.Is(err, procinfo.ErrProcessGone) && gone == nil && target.Alive() != nil {
			gone = err
		}
		if procinfo.IsDenied(err) {
			f.Refused++
		}
		return err.Error()
	}

	for _, link := range namespaces.Links {
		n, err := readNamespace(target, ref, link)
		if err != nil {
			n.Err = fail(err)
		}
		f.Namespaces[link.Name] = n
	}

	statusFile := dir + "/status"
	if b, err := target.ReadFile("status"); err != nil {
		msg := fail(err)
		f.Capabilities = Capabilities{Evidence: []Evidence{}, Err: msg}
		f.NoNewPrivs = Flag{Evidence: []Evidence{}, Err: msg}
		f.Seccomp = Seccomp{Filters: -1, Evidence: []Evidence{}, Err: msg}
	} else if s, err := ParseStatus(b); err != nil {
		msg := fmt.Sprintf("%s: %v", statusFile, err)
		f.Capabilities = Capabilities{Evidence: []Evidence{}, Err: msg}
		f.NoNewPrivs = Flag{Evidence: []Evidence{}, Err: msg}
		f.Seccomp = Seccomp{Filters: -1, Evidence: []Evidence{}, Err: msg}
	} else {
		f.Capabilities = s.Capabilities(statusFile)
		f.NoNewPrivs = s.NoNewPrivsFlag(statusFile)
		f.Seccomp = s.SeccompMode(statusFile)
	}

	var err error
	if f.LSM, err = readLSM(target, dir); err != nil {
		f.LSM.Err = fail(err)
	}
	f.UIDMap = readIDMap(target, dir, "uid_map", fail)
	f.GIDMap = readIDMap(target, dir, "gid_map", fail)
	readMounts(f, target, ref, dir, fail)
	if f.Devices, err = readDevices(target, dir); err != nil {
		f.Devices.Err = fail(err)
	}
	if f.Cgroup, err = readCgroup(target, dir); err != nil {
		f.Cgroup.Err = fail(err)
	}

	afterReads()
	if err := target.Alive(); err != nil {
		return nil, err
	}
	if gone != nil {
		return nil, gone
	}
	if ref != nil {
		if err := ref.Alive(); err != nil {
			withdrawRef(f, fmt.Sprintf("the reference exited while it was read, so the comparisons with it are withdrawn: %v", err))
		}
	}
	return f, nil
}

// withdrawRef marks the facts compared with the reference as failed.
func withdrawRef(f *Facts, msg string) {
	for k, n := range f.Namespaces {
		n.Shared, n.Proven, n.Err = false, false, msg
		f.Namespaces[k] = n
	}
	f.SensitiveMounts = SensitiveMounts{Mounts: []SensitiveMount{}, Err: msg}
}

func readIDMap(p *procinfo.Proc, dir, name string, fail func(error) string) IDMap {
	b, err := p.ReadFile(name)
	if err != nil {
		return IDMap{Ranges: []IDRange{}, Evidence: []Evidence{}, Err: fail(err)}
	}
	m, err := ParseIDMap(b, dir+"/"+name)
	if err != nil {
		m.Err = err.Error()
	}
	return m
}

func readMounts(f *Facts, target, ref *procinfo.Proc, dir string, fail func(error) string) {
	file := dir + "/mountinfo"
	empty := func(msg string) {
		f.MaskedPaths = PathList{Paths: []Path{}, Err: msg}
		f.ReadonlyPaths = PathList{Paths: []Path{}, Err: msg}
		f.SensitiveMounts = SensitiveMounts{Mounts: []SensitiveMount{}, Err: msg}
	}
	b, err := target.ReadFile("mountinfo")
	if err != nil {
		empty(fail(err))
		return
	}
	mounts, err := ParseMountInfo(b)
	if err != nil {
		empty(fmt.Sprintf("%s: %v", file, err))
		return
	}
	if len(mounts) == 0 {
		// A zombie's mountinfo reads empty: it has no mount namespace left.
		empty(file + " is empty (the process has exited and not been reaped, or lost its mount namespace)")
		return
	}
	f.MaskedPaths = FindMasked(mounts, file)
	f.ReadonlyPaths = FindReadonly(mounts, file)
	var refMounts []MountLine
	if ref != nil {
		rb, err := ref.ReadFile("mountinfo")
		if err == nil {
			refMounts, err = ParseMountInfo(rb)
		}
		if err == nil && len(refMounts) == 0 {
			err = errors.New("empty")
		}
		if err != nil {
			f.SensitiveMounts = SensitiveMounts{Mounts: []SensitiveMount{},
				Err: fmt.Sprintf("reading the reference's %s/mountinfo: %v", procDir(ref), err)}
			return
		}
	}
	f.SensitiveMounts = FindSensitive(mounts, refMounts, file)
}

// readCgroup reads the target's cgroup and its limits through the
// reader's own cgroupfs mounts.
func readCgroup(p *procinfo.Proc, dir string) (Cgroup, error) {
	c := Cgroup{Evidence: []Evidence{}}
	b, err := p.ReadFile("cgroup")
	if err != nil {
		return c, err
	}
	cgFile := dir + "/cgroup"
	lines, err := ParseCgroup(b)
	if err != nil {
		c.Err = fmt.Sprintf("%s: %v", cgFile, err)
		return c, nil
	}
	const selfFile = "/proc/self/mountinfo"
	self, err := procinfo.Self()
	if err != nil {
		c.Err = fmt.Sprintf("pinning the reader itself: %v", err)
		return c, nil
	}
	defer self.Close()
	sb, err := self.ReadFile("mountinfo")
	var selfMounts []MountLine
	if err == nil {
		selfMounts, err = ParseMountInfo(sb)
	}
	if err != nil {
		c.Err = fmt.Sprintf("reading the reader's %s: %v", selfFile, err)
		return c, nil
	}
	plan, err := PlanCgroup(lines, selfMounts, selfFile, cgFile)
	if err != nil {
		c.Err = err.Error()
		return c, nil
	}
	c.Version, c.Path = plan.Version, plan.Path
	var errs []string
	if c.PidsMax, err = readLimit(plan.Pids, &c.Evidence); err != nil {
		errs = append(errs, err.Error())
	}
	if c.MemoryMax, err = readLimit(plan.Memory, &c.Evidence); err != nil {
		errs = append(errs, err.Error())
	}
	c.MemoryMax = UnlimitedV1Memory(c.MemoryMax)
	if len(errs) > 0 {
		c.Err = fmt.Sprint(errs)
	}
	return c, nil
}
