package report

import (
	"fmt"

	"github.com/nsinspect/nsinspect/sharing"
	"github.com/nsinspect/nsinspect/verdict"
)

// Clone is one clone experiment's outcome. Resource names are those of
// `nsinspect compare`.
type Clone struct {
	Call // Syscall is "clone" or "clone3"
	// LabNamespaces names the namespace types the lab made ("net", in
	// lsns order); the lab keeps nsinspect's others (a root lab its user
	// namespace). Empty with --host.
	LabNamespaces []string `json:"lab_namespaces,omitempty"`
	// UserMap says what nsinspect wrote to a new user namespace's maps.
	UserMap string `json:"user_map,omitempty"`
	// Cgroup is CLONE_INTO_CGROUP's target directory; the child's
	// snapshot (its /proc/PID/cgroup, read while it is parked) shows
	// where it landed.
	Cgroup string `json:"cgroup,omitempty"`

	Parent *Side `json:"parent,omitempty"`
	Child  *Side `json:"child,omitempty"`

	// Relation is how the child hangs off the parent: CLONE_THREAD,
	// CLONE_PARENT, CLONE_VFORK and CLONE_PIDFD are not resources shared
	// but relations between the two tasks.
	Relation *Relation `json:"relation,omitempty"`

	Resources []Resource       `json:"resources"`
	FDs       []sharing.FDPair `json:"fds"`
	Probes    []Probe          `json:"probes"`
	AfterExec *ExecView        `json:"after_exec,omitempty"`

	// Disagreements lists every resource whose identity verdict, probe
	// verdict and clone(2) expectation do not all agree.
	Disagreements []string `json:"disagreements"`

	// Inspector is the fd table of the process that ran the experiment
	// (the lab, or nsinspect with --host), read while both sides were
	// still parked: its pins on them, its pipes to them, the Go runtime's
	// own, and nothing left over from earlier experiments.
	Inspector []FDEntry `json:"inspector_fds"`
}

// Resource is the verdict on one resource, with its evidence.
type Resource struct {
	Name     string           `json:"name"`
	Kind     string           `json:"kind"` // "namespace" or "kcmp"
	Shared   *bool            `json:"shared"`
	Expected bool             `json:"expected"`     // what clone(2) says for these flags
	Why      string           `json:"expected_why"` // "CLONE_NEWNET given"
	Evidence sharing.Evidence `json:"evidence"`
	Note     string           `json:"note,omitempty"`
	Probe    *bool            `json:"probe"` // the witness probe's verdict, null when none ran
	Agree    bool             `json:"agree"`
}

// Relation describes the parent/child relation the flags made.
type Relation struct {
	SameThreadGroup bool   `json:"same_thread_group"` // CLONE_THREAD: child is /proc/PID/task/TID
	ChildTgid       int    `json:"child_tgid"`
	ChildPPid       int    `json:"child_ppid"` // CLONE_PARENT: the parent's parent
	ParentPPid      int    `json:"parent_ppid"`
	VforkSuspended  bool   `json:"vfork_suspended"` // the parent is still in clone(CLONE_VFORK)
	ParentPidfd     *int   `json:"parent_pidfd"`    // CLONE_PIDFD: the fd clone returned
	PidfdTarget     string `json:"pidfd_target,omitempty"`
	ChildNSpid      []int  `json:"child_nspid"` // the child's pid in each pid namespace, outermost first
}

// Probe is one witness: one side changed a resource, the other side's view
// was read again.
type Probe struct {
	Name     string `json:"name"`     // "fd", "mount", "hostname", ...
	Resource string `json:"resource"` // the resource it witnesses
	Action   string `json:"action"`   // what the acting side did
	Observed string `json:"observed"` // what the other side saw
	Shared   *bool  `json:"shared"`   // null when the probe could not run
	Error    string `json:"error,omitempty"`
}

// ExecView is the kcmp verdicts after the child called execve: FILES, VM
// and SIGHAND sharing ends there; FS, SYSVSEM and IO survive.
type ExecView struct {
	Program   string     `json:"program"`
	Resources []Resource `json:"resources"`
	Error     string     `json:"error,omitempty"`
}

// Judge fills each resource's probe verdict and agreement, and lists
// every disagreement between expectation, identity and probe.
func (r *Clone) Judge() {
	byRes := map[string]*Probe{}
	for i := range r.Probes {
		if r.Probes[i].Resource != "" && r.Probes[i].Shared != nil {
			byRes[r.Probes[i].Resource] = &r.Probes[i]
		}
	}
	for i := range r.Resources {
		res := &r.Resources[i]
		if pr := byRes[res.Name]; pr != nil {
			res.Probe = pr.Shared
		}
		res.Agree = res.Shared != nil && *res.Shared == res.Expected && (res.Probe == nil || *res.Probe == res.Expected)
		if !res.Agree {
			r.Disagreements = append(r.Disagreements, fmt.Sprintf("%s: expected %s (%s), identity says %s, %s",
				res.Name, verdict.Of(&res.Expected), res.Why, verdict.Of(res.Shared), probeSays(res.Probe)))
		}
	}
}

// NewPidNS reports whether the child was born in a pid namespace the
// parent is not in (CLONE_NEWPID): its NSpid, read through the same /proc
// as the parent's, has one level more. Without CLONE_NEWPID both NSpid
// end in the pid namespace they share (the lab's).
func (r *Clone) NewPidNS() bool {
	return r.Parent != nil && r.Relation != nil && len(r.Parent.NSpid) > 0 && len(r.Relation.ChildNSpid) > len(r.Parent.NSpid)
}

func probeSays(p *bool) string {
	if p == nil {
		return "no probe decided"
	}
	return "probe says " + verdict.Of(p).String()
}
