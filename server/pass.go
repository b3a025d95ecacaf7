package server

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/nsinspect/nsinspect/discover"
	"github.com/nsinspect/nsinspect/engine"
	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/procinfo"
)

// Pass is one discovery pass of the model (with tasks) and what the
// server derives from it: the host's namespaces, the containers, their
// isolation facts and policy results. It is read by many requests at
// once and never changed after Scan returns.
type Pass struct {
	Model *model.Model
	// Host is PID 1's namespace per namespaces.Links entry, when
	// nsinspect runs in the initial pid namespace (hostPID); nil
	// otherwise, and then HostNote says why nothing is compared with the
	// host.
	Host     []*model.Namespace
	HostNote string
	// Containers, sorted by engine and id.
	Containers []*Observed
	// Policy is one result per (rule, container) the policy matched;
	// PolicyRules names every rule, so that a rule nothing violates
	// shows as 0.
	Policy      []PolicyResult
	PolicyRules []string
	Started     time.Time
	Duration    time.Duration
	// Errors counts what went wrong in this pass without failing it, by
	// kind (see ErrorKinds).
	Errors map[string]int
}

// ErrorKinds are the values of nsinspect_errors_total's kind label; the
// set is fixed, so the label's cardinality is too.
var ErrorKinds = []string{
	"scan",         // the discovery pass failed as a whole
	"cgroup",       // a container candidate's /proc/PID/cgroup could not be read (not: it exited)
	"engine_api",   // the Docker engine's or containerd's socket did not answer for names
	"kubelet_logs", // the pods or containers log directory could not be read
	"netdev",       // a container's /proc/PID/net/dev could not be read
	"posture",      // a container's isolation facts could not be read
	"policy",       // the policy file failed to load or reload
}

// PolicyResult is one policy rule applied to one container.
type PolicyResult struct {
	Rule       string
	Container  *Observed
	Violations int
	// Undecided says why the rule could not be decided for the
	// container (its identity is unknown): then there is no violations
	// gauge, which would read 0, but an undecided one.
	Undecided string
}

// Scanner runs passes for the cache.
type Scanner struct {
	// Source is discover.BPF with loaded iterators, or discover.Proc.
	Source discover.Source
	// Kubelet names pods and containers; its zero value reads nothing.
	Kubelet Kubelet
	// Names asks a container engine for names by id (the Docker
	// engine's socket); nil asks none.
	Names func(ctx context.Context) (map[string]string, error)
	// Pods asks the CRI runtime for its containers by id, with their
	// pods from kubelet's labels (engine.ContainerdPods on k8s.io); nil
	// asks none, and so does a nil map (no containerd on this node).
	Pods func(ctx context.Context) (map[string]*engine.Container, error)
	// Enrich adds what needs more than the model (isolation facts,
	// policy results) to a pass before it is published; nil adds
	// nothing. It may count errors with Pass.Fail.
	Enrich func(p *Pass)
	// Metrics, when set, records each pass's duration and errors.
	Metrics *Metrics
}

// Fail counts one error of kind in the pass.
func (p *Pass) Fail(kind string) {
	if p.Errors == nil {
		p.Errors = map[string]int{}
	}
	p.Errors[kind]++
}

// Scan runs one pass.
func (s *Scanner) Scan() (*Pass, error) {
	p := &Pass{Started: time.Now()}
	m, err := discover.Run(discover.Options{Tasks: true}, s.Source)
	if err != nil {
		p.Duration = time.Since(p.Started)
		p.Fail("scan")
		s.Metrics.observe(p, s.Source.Name())
		return nil, &PassError{err}
	}
	p.Model = m
	p.Host, p.HostNote = hostNamespaces(m)
	p.Containers = containers(p, s.Kubelet)
	s.names(p)
	s.pods(p)
	readNetDev(p)
	if s.Enrich != nil {
		s.Enrich(p)
	}
	p.Duration = time.Since(p.Started)
	s.Metrics.observe(p, m.Source)
	return p, nil
}

func (s *Scanner) names(p *Pass) {
	if s.Names == nil || !slices.ContainsFunc(p.Containers, func(c *Observed) bool { return c.Engine == "docker" }) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	names, err := s.Names(ctx)
	if err != nil {
		p.Fail("engine_api")
		return
	}
	for _, c := range p.Containers {
		if c.Engine == "docker" && c.Name == "" {
			c.Name = names[c.ID]
		}
	}
}

// pods names the pass's CRI containers from the runtime: a container
// containerd knows becomes containerd's (kubelet's cgroupfs layout does
// not name the runtime), with its name, namespace and pod from kubelet's
// labels, which are what kubelet itself asked for; the log directories'
// names (Kubelet) stay where the runtime cannot be asked.
func (s *Scanner) pods(p *Pass) {
	if s.Pods == nil || !slices.ContainsFunc(p.Containers, isCRI) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	known, err := s.Pods(ctx)
	if err != nil {
		p.Fail("engine_api")
		return
	}
	for _, c := range p.Containers {
		k, ok := known[c.ID]
		if !ok || !isCRI(c) {
			continue
		}
		c.Engine, c.Name, c.Namespace, c.Image = k.Engine, k.Name, k.Namespace, k.Image
		uid := c.Pod.UID
		c.Pod = k.Pod
		if c.Pod.UID == "" {
			c.Pod.UID = uid
		}
	}
}

func isCRI(c *Observed) bool { return c.Engine == "containerd" || c.Engine == "kubernetes" }

// hostNamespaces is the host's namespaces, when nsinspect runs in the
// initial pid namespace: PID 1's, or, where PID 1's links cannot be read
// (a VM's init that refuses even root), kthreadd's (PID 2): kernel
// threads run in the kernel's initial namespaces (init_nsproxy), which
// are the host's.
func hostNamespaces(m *model.Model) ([]*model.Namespace, string) {
	initial, err := namespaces.InInitialPIDNamespace(procinfo.Root)
	if err != nil {
		return nil, fmt.Sprintf("no host reference: %v", err)
	}
	if !initial {
		return nil, "no host reference: nsinspect does not run in the initial pid namespace, so its PID 1 is not the host's init (run the container with --pid host, or hostPID: true)"
	}
	if t := taskOf(m, 1); t != nil && complete(t) {
		return t.NS, ""
	}
	if t := taskOf(m, 2); t != nil && t.Kernel && complete(t) {
		return t.NS, "PID 1's namespaces could not be read: the host's are kthreadd's (PID 2), the kernel's initial namespaces"
	}
	return nil, "no host reference: neither PID 1's nor kthreadd's namespaces could be read"
}

func taskOf(m *model.Model, pid int) *model.Task {
	i, ok := slices.BinarySearchFunc(m.Tasks, pid, func(t *model.Task, pid int) int { return cmp.Compare(t.PID, pid) })
	if !ok || m.Tasks[i].TID != pid {
		return nil
	}
	return m.Tasks[i]
}

// complete: every own link of SharedTypes was read.
func complete(t *model.Task) bool {
	for _, ty := range SharedTypes {
		if i := linkIndex(ty); i >= len(t.NS) || t.NS[i] == nil {
			return false
		}
	}
	return true
}

// SharedTypes are the namespace types per-container gauges are given for
// (the task's own links; pid_for_children and time_for_children follow
// pid and time for a container's processes).
var SharedTypes = []namespaces.Type{
	namespaces.Cgroup, namespaces.IPC, namespaces.Mount, namespaces.Net,
	namespaces.PID, namespaces.Time, namespaces.User, namespaces.UTS,
}

// linkIndex is the namespaces.Links index of t's own link.
func linkIndex(t namespaces.Type) int {
	for i, l := range namespaces.Links {
		if l.Type == t && l.Name == t.Name() {
			return i
		}
	}
	panic("no link for " + t.Name())
}
