package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/nsinspect/nsinspect/engine"
	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/policy"
	"github.com/nsinspect/nsinspect/posture"
	"github.com/nsinspect/nsinspect/procinfo"
)

// PolicyFile holds the --policy in force and reads, on every pass, each
// container's isolation facts (posture.Read, as audit does) for the
// isolation gauges and the policy's violations.
type PolicyFile struct {
	file    string
	metrics *Metrics

	mu      sync.Mutex
	pol     *policy.Policy // nil without --policy
	lastErr error          // the last reload's failure, nil when it succeeded

	// identities caches what engines said of a container (engine/id ->
	// name, image, labels), asked only when a rule selects on them; a
	// container's are fixed for its life. Failed asks are not cached.
	identities map[string]engine.Container
}

func NewPolicyFile(file string) (*PolicyFile, error) {
	s := &PolicyFile{file: file}
	if file == "" {
		return s, nil
	}
	p, err := policy.Load(file)
	if err != nil {
		return nil, inspect.PolicyErrors("--policy: ", err)
	}
	s.pol = p
	return s, nil
}

// Attach exports the policy's gauges on m.
func (s *PolicyFile) Attach(m *Metrics) {
	s.metrics = m
	if s.file != "" {
		m.EnablePolicy()
		m.PolicyLoaded(nil, len(s.pol.Rules()))
	}
}

// Reload reads the file again on SIGHUP and says what it did, for the
// log; a bad file keeps the policy in force, says why and sets in nsinspect_policy_last_reload_success.
func (s *PolicyFile) Reload() string {
	if s.file == "" {
		return "SIGHUP: no --policy to reload"
	}
	p, err := policy.Load(s.file)
	s.mu.Lock()
	if err == nil {
		s.pol = p
	}
	s.lastErr = err
	rules := len(s.pol.Rules())
	s.mu.Unlock()
	s.metrics.PolicyLoaded(err, rules)
	if err != nil {
		return "SIGHUP: keeping the previous policy: " + inspect.PolicyError(err)
	}
	return fmt.Sprintf("SIGHUP: policy %s reloaded, %d rules", s.file, rules)
}

func (s *PolicyFile) current() *policy.Policy {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pol
}

// status is for /healthz.
func (s *PolicyFile) status() string {
	if s.file == "" {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastErr != nil {
		return fmt.Sprintf("%s: %d rules in force; the last reload failed: %s", s.file, len(s.pol.Rules()), inspect.PolicyError(s.lastErr))
	}
	return fmt.Sprintf("%s: %d rules", s.file, len(s.pol.Rules()))
}

// Enrich reads each container's posture against the host reference and
// evaluates the policy on it.
func (s *PolicyFile) Enrich(p *Pass) {
	if len(p.Containers) == 0 {
		return
	}
	ref, _, err := inspect.AuditReference("")
	if err != nil {
		p.Fail("posture")
		return
	}
	if ref != nil {
		defer ref.Close()
	}
	pol := s.current()
	if pol != nil {
		for _, r := range pol.ExpectRules() {
			p.PolicyRules = append(p.PolicyRules, r.Name())
		}
	}
	defer s.forgetGone(p.Containers)
	for _, c := range p.Containers {
		facts, err := containerFacts(c, ref)
		if err != nil {
			p.Fail("posture")
			continue
		}
		if facts == nil {
			continue // exited since the pass
		}
		c.Isolation = isolationOf(facts)
		if pol == nil {
			continue
		}
		t := s.target(c, pol)
		for _, res := range pol.Evaluate(t, facts) {
			if res.Matched || res.Undecided != "" {
				p.Policy = append(p.Policy, PolicyResult{Rule: res.Rule, Container: c, Violations: len(res.Violations), Undecided: res.Undecided})
			}
		}
	}
}

// forgetGone drops the identities of containers this pass did not find.
func (s *PolicyFile) forgetGone(live []*Observed) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key := range s.identities {
		if !slices.ContainsFunc(live, func(c *Observed) bool { return c.Engine+"/"+c.ID == key }) {
			delete(s.identities, key)
		}
	}
}

// target is the policy's view of a container: its engine, id and pid
// from the pass and, when a rule selects on them, its name, image and
// labels from its engine (engine.Identify, as audit asks). When the
// engine cannot be asked, the target is Unidentified and such rules are
// undecided for it, never "matched nothing".
func (s *PolicyFile) target(c *Observed, pol *policy.Policy) policy.Target {
	t := policy.Target{Engine: c.Engine, ID: c.ID, Name: c.Name, PID: c.PID}
	if !slices.ContainsFunc(pol.Rules(), policy.Rule.NeedsIdentity) {
		return t
	}
	key := c.Engine + "/" + c.ID
	s.mu.Lock()
	known, ok := s.identities[key]
	s.mu.Unlock()
	if !ok {
		known = engine.Container{Engine: c.Engine, ID: c.ID, Namespace: c.Namespace, Cgroup: c.Cgroup}
		if err := engine.Identify(context.Background(), &known); err != nil {
			t.Unidentified = inspect.OneLine(err.Error())
			return t
		}
		s.mu.Lock()
		if s.identities == nil {
			s.identities = map[string]engine.Container{}
		}
		s.identities[key] = known
		s.mu.Unlock()
	}
	if known.Name != "" {
		t.Name = known.Name
	}
	t.Image, t.Labels = known.Image, known.Labels
	return t
}

func containerFacts(c *Observed, ref *procinfo.Proc) (*posture.Facts, error) {
	pin, err := procinfo.Open(c.PID)
	if err != nil {
		return nil, nil
	}
	defer pin.Close()
	f, err := posture.Read(pin, ref)
	if err != nil {
		if errors.Is(err, procinfo.ErrProcessGone) {
			return nil, nil
		}
		return nil, err
	}
	return f, nil
}

// isolationOf keeps of the facts what the gauges show.
func isolationOf(f *posture.Facts) *Isolation {
	iso := &Isolation{
		SeccompDisabled: f.Seccomp.Err == "" && f.Seccomp.Mode == "disabled",
		NoNewPrivs:      f.NoNewPrivs.Value,
		SensitiveMounts: map[string]int{},
	}
	for _, c := range f.Capabilities.Effective {
		if slices.Contains(PrivilegedCapabilities, c) {
			iso.Capabilities = append(iso.Capabilities, c)
		}
	}
	for _, m := range f.SensitiveMounts.Mounts {
		iso.SensitiveMounts[m.Kind]++
	}
	return iso
}

// audit is `audit --json TARGET [--policy FILE]`.
func (a API) audit(ctx context.Context, q Query) (any, error) {
	target, err := q.Require("target")
	if err != nil {
		return nil, err
	}
	// A policy of event rules alone has nothing for audit: the report
	// is then the facts, as without --policy.
	pol := a.Policy.current()
	if pol != nil && len(pol.ExpectRules()) == 0 {
		pol = nil
	}
	report, err := inspect.RunAudit(ctx, inspect.AuditRequest{Targets: []string{target},
		Policy: pol, PolicyFile: a.Policy.file, EngineTimeout: a.EngineTimeout})
	if err != nil {
		return nil, FromError(err, "target")
	}
	return report, nil
}
