package clone

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/clone/flags"
	"github.com/nsinspect/nsinspect/clone/report"
	"github.com/nsinspect/nsinspect/internal/nsichild"
	"github.com/nsinspect/nsinspect/procinfo"
	"github.com/nsinspect/nsinspect/sharing"
)

// experimentReport runs one experiment whose parent z forks and reports
// it, inspecting from this process (nsinspect, or the Go lab of a user
// namespace).
func experimentReport(req Request, mode string, z *nsichild.Zygote) (*report.Clone, error) {
	rep, stop, err := runExperiment(req, mode, z)
	stop()
	return rep, err
}

// runExperiment is experimentReport that leaves the two processes parked:
// the caller ends them with stop (always non-nil) once the report is out,
// so that printing it does not wait for their teardown.
func runExperiment(req Request, mode string, z *nsichild.Zygote) (rep *report.Clone, stop func(), err error) {
	stop = func() {}
	rep = &report.Clone{
		Call:          report.NewCall(req.Flags, "", mode), // the syscall once one ran
		LabNamespaces: req.lab,
		Resources:     []report.Resource{},
		FDs:           []sharing.FDPair{},
		Probes:        []report.Probe{},
		Disagreements: []string{},
	}
	cgroupFD := -1
	if req.Flags.Has(unix.CLONE_INTO_CGROUP) {
		fd, err := openCgroup(req)
		if err != nil {
			return nil, stop, fmt.Errorf("opening cgroup %s for CLONE_INTO_CGROUP: %w", req.Cgroup, err)
		}
		defer unix.Close(fd)
		cgroupFD = fd
		rep.Cgroup = req.Cgroup
	}
	p, err := startPair(z, req.Flags, req.Clone3, cgroupFD)
	var ce *CallError
	if errors.As(err, &ce) {
		rep.Syscall = ce.Syscall
		rep.Refused(ce.Errno, flags.Explain(req.Flags, ce.Errno))
		return rep, stop, nil
	}
	if err != nil {
		return nil, stop, err
	}
	stop = p.stop
	defer func() {
		if err != nil {
			p.stop()
			stop = func() {}
		}
	}()
	rep.Syscall = p.syscall
	if req.Flags.Has(unix.CLONE_NEWUSER) {
		if rep.UserMap, err = p.mapRoot(); err != nil {
			return nil, stop, err
		}
	}
	rep.Parent, rep.Child = snapshotPair(p.parentProc, p.childProc, !req.Identity)
	rep.Relation = p.relation(rep.Child)
	cmp, err := sharing.Compare(p.parentProc, p.childProc)
	if err != nil {
		return nil, stop, fmt.Errorf("comparing parent and child: %w", err)
	}
	rep.FDs = cmp.FDs
	rel := release()
	expected := flags.Expected(req.Flags, rel)
	for _, r := range cmp.Resources {
		r = decided(r)
		rep.Resources = append(rep.Resources, report.Resource{
			Name: r.Name, Kind: r.Kind, Shared: r.Shared, Evidence: r.Evidence, Note: r.Note,
			Expected: expected[r.Name], Why: flags.ExpectedReason(req.Flags, rel, r.Name),
		})
	}
	if req.Probes && !req.Identity {
		rep.Probes = p.runProbes(rep.Child, req.Host)
	}
	rep.Inspector = ownFDs()
	rep.Judge()
	if req.Exec {
		rep.AfterExec = p.execView()
	}
	return rep, stop, nil
}

// ownFDs lists this process's fd table.
func ownFDs() []report.FDEntry {
	self, err := procinfo.Self()
	if err != nil {
		return nil
	}
	defer self.Close()
	fds, _ := self.FDs()
	out := make([]report.FDEntry, 0, len(fds))
	for _, f := range fds {
		out = append(out, report.FDEntry{FD: f.Num, Kind: string(f.Kind), Target: f.Link})
	}
	return out
}

// mapRoot maps root in the child's new user namespace to the parent's
// uid and gid, as unshare --map-root-user does. Unmapped, the child runs as
// the overflow uid and cannot own anything: mq_open(O_CREAT) and mount
// fail with EOVERFLOW or EPERM, and the probes could not decide.
func (p *pair) mapRoot() (string, error) {
	st, err := p.parentProc.Status()
	if err != nil {
		return "", err
	}
	uid, gid := st.Uid[1], st.Gid[1]
	writes := []struct{ file, text string }{
		{"uid_map", fmt.Sprintf("0 %d 1\n", uid)},
		{"setgroups", "deny\n"},
		{"gid_map", fmt.Sprintf("0 %d 1\n", gid)},
	}
	for _, w := range writes {
		fd, err := p.childProc.Openat(w.file, unix.O_WRONLY)
		if err != nil {
			return "", fmt.Errorf("mapping root in the child's user namespace: %w", err)
		}
		_, err = unix.Write(fd, []byte(w.text))
		unix.Close(fd)
		if err != nil {
			return "", fmt.Errorf("writing the child's %s: %w", w.file, err)
		}
	}
	return fmt.Sprintf("nsinspect wrote uid_map \"0 %d 1\" and gid_map \"0 %d 1\" (setgroups deny): the child is root in its user namespace", uid, gid), nil
}

// decided turns kcmp's "same" for io and sysvsem into a verdict: KCMP_IO
// and KCMP_SYSVSEM compare pointers that stay NULL until first use, so
// the parent allocates both before its clone call and the child before
// its hello (nsi_parent_main, nsi_child_main): both tasks hold real
// objects, so 0 is one shared object,
// not NULL == NULL. Other resources pass unchanged.
func decided(r sharing.Resource) sharing.Resource {
	if (r.Name != "io" && r.Name != "sysvsem") || r.Shared != nil || r.Evidence.Result == nil || *r.Evidence.Result != 0 {
		return r
	}
	what := map[string]string{"io": "an io_context (ioprio_set)", "sysvsem": "a SysV undo list (semop SEM_UNDO)"}[r.Name]
	r.Shared = yes(true)
	r.Note = "decided: nsinspect gave both tasks " + what + " before comparing, so 0 is one shared object, not NULL == NULL"
	return r
}

func (p *pair) relation(child *report.Side) *report.Relation {
	r := &report.Relation{
		SameThreadGroup: child.Tgid == p.parentPID,
		ChildTgid:       child.Tgid,
		ChildPPid:       child.PPid,
		VforkSuspended:  p.vforkSuspended,
		ChildNSpid:      child.NSpid,
	}
	if st, err := p.parentProc.Status(); err == nil {
		r.ParentPPid = st.PPid
	}
	if p.parentPidfd >= 0 {
		fd := p.parentPidfd
		r.ParentPidfd = &fd
		if info, err := p.parentProc.ReadFile(fmt.Sprintf("fdinfo/%d", fd)); err == nil {
			r.PidfdTarget = pidfdTarget(string(info))
		}
	}
	return r
}

// pidfdTarget extracts the "Pid:" line of a pidfd's fdinfo.
func pidfdTarget(fdinfo string) string {
	var pid int
	for _, line := range strings.Split(fdinfo, "\n") {
		if n, _ := fmt.Sscanf(line, "Pid:\t%d", &pid); n == 1 {
			return fmt.Sprintf("pid %d", pid)
		}
	}
	return ""
}

func (p *pair) runProbes(childBefore *report.Side, host bool) []report.Probe {
	out := make([]report.Probe, 0, len(probes))
	for _, pr := range probes {
		if host && !pr.hostSafe {
			out = append(out, report.Probe{Name: pr.name, Error: "not run with --host: it would change the host"})
			continue
		}
		out = append(out, pr.run(p, childBefore))
	}
	return out
}

// execView has the child execve sleep(1) and compares again: kcmp's
// resources after exec show which sharing survives it.
func (p *pair) execView() *report.ExecView {
	v := &report.ExecView{}
	if p.flags.Has(unix.CLONE_THREAD) {
		v.Error = "not run with CLONE_THREAD: an exec by the child thread would replace the whole thread group, parent included"
		return v
	}
	prog, err := exec.LookPath("sleep")
	if err != nil {
		v.Error = "no sleep(1) to exec: " + err.Error()
		return v
	}
	v.Program = prog + " infinity"
	if err := p.child.Send(nsichild.OpExec, 0, prog); err != nil {
		v.Error = err.Error()
		return v
	}
	if err := waitExec(p.childProc); err != nil {
		v.Error = err.Error()
		return v
	}
	cmp, err := sharing.Compare(p.parentProc, p.childProc)
	if err != nil {
		v.Error = err.Error()
		return v
	}
	expected := flags.Expected(p.flags, release())
	for _, r := range cmp.Resources {
		if r.Kind != sharing.KindKcmp {
			continue
		}
		r = decided(r)
		exp := expected[r.Name]
		if r.Name == "files" || r.Name == "vm" || r.Name == "sighand" {
			exp = false // execve unshares the fd table, the mm and the handlers
		}
		v.Resources = append(v.Resources, report.Resource{Name: r.Name, Kind: r.Kind, Shared: r.Shared, Evidence: r.Evidence,
			Note: r.Note, Expected: exp, Agree: r.Shared != nil && *r.Shared == exp})
	}
	return v
}

// waitExec waits until the child runs the new program (comm changes).
func waitExec(child *procinfo.Proc) error {
	for i := 0; i < 500; i++ {
		st, err := child.Stat()
		if err != nil {
			return fmt.Errorf("the child did not survive its execve: %w", err)
		}
		if st.Comm == "sleep" {
			return nil
		}
		time.Sleep(2 * time.Millisecond)
	}
	return errors.New("the child did not execve sleep within a second")
}

// openCgroup opens CLONE_INTO_CGROUP's target: the fd the lab inherited,
// else the directory by path.
func openCgroup(req Request) (int, error) {
	if req.cgroupFD > 0 {
		return unix.FcntlInt(uintptr(req.cgroupFD), unix.F_DUPFD_CLOEXEC, 0)
	}
	return unix.Open(req.Cgroup, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
}
