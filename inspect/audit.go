package inspect

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nsinspect/nsinspect/engine"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/policy"
	"github.com/nsinspect/nsinspect/posture"
	"github.com/nsinspect/nsinspect/procinfo"
	"github.com/nsinspect/nsinspect/schema"
)

// Audit is one target of `audit --json` and /api/audit: its isolation
// facts read from the kernel against a reference.
type Audit struct {
	Target    AuditTarget    `json:"target"`
	Reference Reference      `json:"reference"`
	Facts     *posture.Facts `json:"facts"`
	// Members are the container's other processes whose namespaces
	// differ from its init's: a process that joined a namespace after
	// the container started, which the engine's declaration cannot show.
	Members []Member `json:"members,omitempty"`
	Notes   []string `json:"notes,omitempty"`

	// policy is what a policy rule's match selects on; identityErr is
	// why the engine could not say who the container is, when it could
	// not (then rules on its name, image or labels are undecided).
	policy      policy.Target
	identityErr error
}

// AuditTarget is who was audited: as named, as pinned, and what its
// engine said of it.
type AuditTarget struct {
	Arg       string            `json:"arg"`
	PID       int               `json:"pid"`
	Comm      string            `json:"comm"`
	Container *engine.Container `json:"container,omitempty"`
	Image     string            `json:"image,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
	// Declared is what the engine says it configured, for comparing
	// with the kernel's facts.
	Declared *engine.Declared `json:"declared,omitempty"`
}

// Reference is the process whose namespaces "shared" is measured
// against, and why it was chosen.
type Reference struct {
	PID  int    `json:"pid"` // 0: no reference (inside a container)
	Comm string `json:"comm,omitempty"`
	Why  string `json:"why"`
}

// Member is one process of the container whose namespace links are
// not its init's.
type Member struct {
	PID     int                      `json:"pid"`
	Comm    string                   `json:"comm"`
	Differs map[string]namespaces.NS `json:"differs"` // link -> the member's namespace, where init's differs
}

// AuditReport is `audit --json` as a whole.
type AuditReport struct {
	SchemaVersion schema.Version `json:"schema_version"`
	Targets       []Audit        `json:"targets"`
	Policy        *PolicyReport  `json:"policy,omitempty"`
}

// PolicyReport is a policy checked against every audited target.
type PolicyReport struct {
	File       string             `json:"file"`
	Rules      int                `json:"rules"`
	Results    []PolicyResult     `json:"results"`
	Violations []policy.Violation `json:"violations"`
	Unmatched  []string           `json:"unmatched_rules,omitempty"`
	// Undecided are the rules that could not be decided for a target,
	// with why: never counted as holding.
	Undecided []UndecidedRule `json:"undecided,omitempty"`
	// Evaluated is every rule against every target, for JUnit.
	Evaluated []policy.Result `json:"-"`
	// kinds is, per undecided rule and target, the class of why.
	kinds []error
}

// UndecidedRule is a rule that could not be decided for a target.
type UndecidedRule struct {
	Rule   string `json:"rule"`
	Target string `json:"target"`
	Why    string `json:"why"`
}

// PolicyResult is a rule that selected a target, and its violations.
type PolicyResult struct {
	Rule       string `json:"rule"`
	Target     string `json:"target"`
	Violations int    `json:"violations"`
}

// AuditReference pins the reference process: --against PID, else PID 1
// when we run in the initial pid namespace, else nsinspect itself when
// PID 1 cannot be read; nil inside a container (a pid namespace that is
// not the initial one), where no host process is visible.
func AuditReference(against string) (*procinfo.Proc, Reference, error) {
	if against != "" {
		r, err := Resolve(context.Background(), against, engine.Timeout)
		if err != nil {
			return nil, Reference{}, err
		}
		return r.Proc, Reference{PID: r.Proc.PID, Comm: commOf(r.Proc), Why: "--against " + against}, nil
	}
	initial, err := namespaces.InInitialPIDNamespace("/proc")
	if err != nil {
		return nil, Reference{}, fmt.Errorf("finding the host's namespaces: %w", err)
	}
	if !initial {
		return nil, Reference{Why: "nsinspect runs outside the initial pid namespace (in a container?): no host process is visible, so sharing is proven only by the kernel's fixed initial inodes"}, nil
	}
	if p, err := procinfo.Open(1); err == nil {
		if _, err := p.Readlink("ns/net"); err == nil {
			return p, Reference{PID: 1, Comm: commOf(p), Why: "PID 1 of the initial pid namespace: the host"}, nil
		} else {
			p.Close()
			self, serr := procinfo.Self()
			if serr != nil {
				return nil, Reference{}, serr
			}
			return self, Reference{PID: self.PID, Comm: commOf(self),
				Why: fmt.Sprintf("PID 1's namespaces cannot be read (%v): the reference is nsinspect itself, which runs in the initial pid namespace", unwrapReason(err))}, nil
		}
	}
	self, err := procinfo.Self()
	if err != nil {
		return nil, Reference{}, err
	}
	return self, Reference{PID: self.PID, Comm: commOf(self), Why: "PID 1 cannot be opened: the reference is nsinspect itself, which runs in the initial pid namespace"}, nil
}

func unwrapReason(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func commOf(p *procinfo.Proc) string {
	b, err := p.ReadFile("comm")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// Auditor audits targets against one reference.
type Auditor struct {
	Ref           *procinfo.Proc // nil: no reference (inside a container)
	RefInfo       Reference
	EngineTimeout time.Duration
}

// Audit resolves one target (Resolve), pins it and reads its facts. A
// container recognised from a PID whose engine could not say who it is
// keeps its id, with a note: a policy rule that selects on its name,
// image or labels is then undecided (EvaluatePolicy), never "matched
// nothing".
func (a Auditor) Audit(ctx context.Context, arg string) (Audit, error) {
	out := Audit{Reference: a.RefInfo, policy: policy.Target{Engine: "host"}}
	r, err := Resolve(ctx, arg, a.EngineTimeout)
	if err != nil {
		return out, fmt.Errorf("audit %w", err)
	}
	defer r.Close()
	p := r.Proc
	if c := r.Container; c != nil {
		out.Target.Container = auditedContainer(c)
		out.Target.Image, out.Target.Labels, out.Target.Declared = c.Image, c.Labels, &c.Declared
		out.policy = policy.Target{Engine: c.Engine, ID: c.ID, Name: c.Name, Image: c.Image, Labels: c.Labels}
		out.Notes = append(out.Notes, PodNotes(c)...)
	} else if c, ierr := engine.Recognize(ctx, p, a.EngineTimeout); c != nil {
		if c.Note != "" {
			out.Notes = append(out.Notes, c.Note)
		}
		out.Target.Container = auditedContainer(c)
		out.Target.Image, out.Target.Labels = c.Image, c.Labels
		out.policy = policy.Target{Engine: c.Engine, ID: c.ID, Name: c.Name, Image: c.Image, Labels: c.Labels}
		if ierr != nil {
			out.policy.Unidentified, out.identityErr = OneLine(ierr.Error()), ierr
		}
		out.Notes = append(out.Notes, PodNotes(c)...)
	}
	out.Target.Arg, out.Target.PID, out.Target.Comm = arg, p.PID, commOf(p)
	out.policy.PID = p.PID
	facts, err := posture.Read(p, a.Ref)
	if err != nil {
		return out, fmt.Errorf("audit %s: %w", arg, ReadError(p, "isolation facts", err))
	}
	out.Facts = facts
	if out.Target.Container != nil {
		out.Members = containerMembers(p, out.Target.Container.ID, a.Ref, facts)
	}
	return out, nil
}

// AuditRequest is what audit and /api/audit ask: targets, audited
// against Against ("" for the host: AuditReference) and, with a policy,
// its rules evaluated on them.
type AuditRequest struct {
	Targets       []string
	Against       string
	Policy        *policy.Policy // nil: none
	PolicyFile    string
	EngineTimeout time.Duration
}

// RunAudit pins the reference, audits every target against it and
// evaluates the policy: the report audit --json prints and /api/audit
// answers. Its Outcome is the exit code.
func RunAudit(ctx context.Context, req AuditRequest) (AuditReport, error) {
	ref, refInfo, err := AuditReference(req.Against)
	if err != nil {
		return AuditReport{}, err
	}
	if ref != nil {
		defer ref.Close()
	}
	a := Auditor{Ref: ref, RefInfo: refInfo, EngineTimeout: req.EngineTimeout}
	return a.Report(ctx, req.Targets, req.Policy, req.PolicyFile)
}

// LoadPolicy reads a policy file: nil for none (""), and each of its
// errors as bad input at FILE:LINE:COL (PolicyErrors).
func LoadPolicy(file string) (*policy.Policy, error) {
	if file == "" {
		return nil, nil
	}
	p, err := policy.Load(file)
	if err != nil {
		return nil, PolicyErrors("", err)
	}
	return p, nil
}

// Report audits each of args in turn and, with a policy (nil: none),
// evaluates its rules on them: what audit --json prints and
// /api/audit answers.
func (a Auditor) Report(ctx context.Context, args []string, pol *policy.Policy, file string) (AuditReport, error) {
	report := AuditReport{}
	if pol != nil && len(pol.ExpectRules()) == 0 {
		return report, BadInputf("policy %s has no rules that expect facts (expect:); its event rules (forbid:) are checked by watch --policy and serve --events", file)
	}
	for _, arg := range args {
		one, err := a.Audit(ctx, arg)
		if err != nil {
			return AuditReport{}, err
		}
		report.Targets = append(report.Targets, one)
	}
	if pol != nil {
		report.Policy = EvaluatePolicy(pol, file, report.Targets)
	}
	return report, nil
}

// EvaluatePolicy runs every rule on every audited target. A rule that
// cannot be decided for a target is listed as undecided, with the class
// of why (Outcome).
func EvaluatePolicy(pol *policy.Policy, file string, audits []Audit) *PolicyReport {
	r := &PolicyReport{File: file, Rules: len(pol.ExpectRules()), Violations: []policy.Violation{}}
	matched := map[string]bool{}
	for _, a := range audits {
		for _, res := range pol.Evaluate(a.policy, a.Facts) {
			r.Evaluated = append(r.Evaluated, res)
			if res.Undecided != "" {
				r.Undecided = append(r.Undecided, UndecidedRule{Rule: res.Rule, Target: res.Target.String(), Why: res.Undecided})
				kind := ErrUndecided
				if ClassOf(a.identityErr) == Privilege {
					kind = ErrPrivilege
				}
				r.kinds = append(r.kinds, kind)
				matched[res.Rule] = true // not "matched no target": it may have
				continue
			}
			if !res.Matched {
				continue
			}
			matched[res.Rule] = true
			r.Results = append(r.Results, PolicyResult{Rule: res.Rule, Target: TargetLabel(a), Violations: len(res.Violations)})
			r.Violations = append(r.Violations, res.Violations...)
		}
	}
	for _, rule := range pol.ExpectRules() {
		if !matched[rule.Name()] {
			r.Unmatched = append(r.Unmatched, rule.Name())
		}
	}
	return r
}

// auditedContainer is the container as audit's target reports it: who
// it is, with its image and labels beside it in the target.
func auditedContainer(c *engine.Container) *engine.Container {
	return &engine.Container{Engine: c.Engine, ID: c.ID, Name: c.Name, Namespace: c.Namespace, Pod: c.Pod, Via: c.Via}
}

// TargetLabel names an audited target in one phrase.
func TargetLabel(a Audit) string {
	if c := a.Target.Container; c != nil {
		return fmt.Sprintf("%s, pid %d (%s)", ContainerLabel(c), a.Target.PID, a.Target.Comm)
	}
	return fmt.Sprintf("pid %d (%s)", a.Target.PID, a.Target.Comm)
}

// ContainerLabel is a container in one phrase: "docker container
// 4b43b7e2d9b9 (web)", "podman container 1cfa4b18674d (web, rootless, of alice)".
func ContainerLabel(c *engine.Container) string {
	s := fmt.Sprintf("%s container %s", c.Engine, c.ShortID())
	var in []string
	if c.Name != "" && c.Name != c.ID {
		in = append(in, c.Name)
	}
	if c.Pod.Name != "" {
		in = append(in, "pod "+c.Pod.Namespace+"/"+c.Pod.Name)
	}
	if c.Rootless && c.User != "" {
		in = append(in, "rootless, of "+c.User)
	} else if c.Rootless {
		in = append(in, "rootless")
	}
	if len(in) > 0 {
		s += " (" + strings.Join(in, ", ") + ")"
	}
	return s
}

// Outcome is what an audit run amounts to, one error per line to print:
// nil when every fact was read and every rule decided and holds. A
// violation is an assertion (exit 1); an undecided rule is a privilege
// (its engine's socket refused us: 4) or undecided (down or too slow:
// 5), and undecided whenever violations come with it, so that a run that
// could not see everything never reads as a plain violation; facts the
// kernel refused to read are a privilege (4).
func (r AuditReport) Outcome() error {
	var errs []error
	if p := r.Policy; p != nil {
		for _, v := range p.Violations {
			errs = append(errs, Assertionf("violation: %s", v.String()))
		}
		for i, u := range p.Undecided {
			kind := p.kinds[i]
			if len(p.Violations) > 0 {
				kind = ErrUndecided
			}
			errs = append(errs, Wrap(kind, nil, "undecided: rule %s for %s: %s", u.Rule, u.Target, u.Why))
		}
	}
	for _, a := range r.Targets {
		if a.Facts != nil && a.Facts.Refused > 0 {
			errs = append(errs, Privilegef("audit %s: %d fact(s) could not be read: %s (they are marked unknown in the report)",
				a.Target.Arg, a.Facts.Refused, procinfo.DeniedHint(fmt.Sprintf("reading process %d", a.Target.PID))))
		}
	}
	return errors.Join(errs...)
}

// OneLine folds s's whitespace, line breaks included, to single spaces:
// an error as it is shown on one line of stderr or in an HTTP error.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
