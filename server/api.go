package server

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/schema"
)

// API answers the JSON paths of `serve` with the CLI's own builders:
// inspect.LsOf, inspect.CompareTasks and inspect.Auditor.
type API struct {
	Cache         *Cache[*Pass]
	EngineTimeout time.Duration
	Policy        *PolicyFile
}

// Endpoints are the JSON paths, their parameters and answers.
func (a API) Endpoints() []Endpoint {
	return []Endpoint{
		{Path: "/api/namespaces", Params: []string{"type", "task"}, Answer: a.namespaces},
		{Path: "/api/tasks", Params: []string{"pid"}, Answer: a.tasks},
		{Path: "/api/containers", Answer: a.containers},
		{Path: "/api/compare", Params: []string{"a", "b", "kernel"}, Live: true, Answer: a.compare},
		{Path: "/api/audit", Params: []string{"target"}, Live: true, Answer: a.audit},
	}
}

func (a API) pass(ctx context.Context) (*Pass, error) {
	p, err := a.Cache.Get(ctx)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// namespaces is `ls --json [-t TYPE] [-p TASK]` over the cached pass.
func (a API) namespaces(ctx context.Context, q Query) (any, error) {
	o := inspect.LsFilter{Task: q.Get("task")}
	if t := q.Get("type"); t != "" {
		if _, err := namespaces.ParseType(t); err != nil {
			return nil, BadRequest("bad_type", "type=%q: %v", t, err)
		}
		o.Types = []string{t}
	}
	held := namespaces.NewHolder()
	defer held.Close()
	keep, err := o.Keep(held)
	if err != nil {
		return nil, FromError(err, "task")
	}
	p, err := a.pass(ctx)
	if err != nil {
		return nil, err
	}
	list := inspect.LsSelect(p.Model.Namespaces, keep)
	return inspect.LsOf(p.Model.Source, list, inspect.UserNames{}), nil
}

// taskJSON is one task in /api/tasks: the model's task, with its ten
// namespace links by name (inode and NS_GET_ID, as ls --json names
// namespaces) and why a link is missing. The kernel object ids the BPF
// source sees are left out: they are per-pass, keyed hashes of kernel
// pointers, and serve no question an HTTP client asks.
type taskJSON struct {
	PID         int                    `json:"pid"`
	TID         int                    `json:"tid"`
	PPID        int                    `json:"ppid"`
	Comm        string                 `json:"comm"`
	State       string                 `json:"state"`
	Kernel      bool                   `json:"kthread"`
	Namespaces  map[string]*taskNSJSON `json:"namespaces"`
	Unavailable map[string]string      `json:"unavailable,omitempty"`
}

type taskNSJSON struct {
	NS uint64  `json:"ns"`
	ID *uint64 `json:"id"`
}

// tasks is every task of the pass, or with ?pid= one process's (every
// thread), or with ?pid=PID:TID one thread.
func (a API) tasks(ctx context.Context, q Query) (any, error) {
	pid, tid := 0, 0
	if s := q.Get("pid"); s != "" {
		t, err := inspect.ParseTarget(s)
		if err != nil {
			return nil, FromError(err, "pid")
		}
		pid = t.PID
		if t.TID != t.PID {
			tid = t.TID
		}
		if t.Engine != "" {
			r, err := inspect.Resolve(ctx, s, a.EngineTimeout)
			if err != nil {
				return nil, FromError(err, "pid")
			}
			pid = r.Proc.PID
			r.Close()
		}
	}
	p, err := a.pass(ctx)
	if err != nil {
		return nil, err
	}
	out := []taskJSON{}
	for _, t := range p.Model.Tasks {
		if (pid != 0 && t.PID != pid) || (tid != 0 && t.TID != tid) {
			continue
		}
		out = append(out, taskOut(t))
	}
	if pid != 0 && len(out) == 0 {
		what := fmt.Sprintf("process with PID %d", pid)
		if tid != 0 {
			what = fmt.Sprintf("thread %d in process %d", tid, pid)
		}
		return nil, NotFound("no_such_task", "no %s in the pass of %s", what, p.Started.UTC().Format(time.RFC3339))
	}
	return struct {
		SchemaVersion schema.Version `json:"schema_version"`
		Source        string         `json:"source"`
		Tasks         []taskJSON     `json:"tasks"`
	}{Source: p.Model.Source, Tasks: out}, nil
}

func taskOut(t *model.Task) taskJSON {
	j := taskJSON{PID: t.PID, TID: t.TID, PPID: t.PPID, Comm: t.Comm, State: string(t.State), Kernel: t.Kernel,
		Namespaces: map[string]*taskNSJSON{}}
	for i, l := range namespaces.Links {
		if i < len(t.NS) && t.NS[i] != nil {
			j.Namespaces[l.Name] = &taskNSJSON{NS: t.NS[i].Ino, ID: inspect.NSID(t.NS[i].NS)}
			continue
		}
		j.Namespaces[l.Name] = nil
		if i < len(t.Missing) && t.Missing[i] != "" {
			if j.Unavailable == nil {
				j.Unavailable = map[string]string{}
			}
			j.Unavailable[l.Name] = t.Missing[i]
		}
	}
	return j
}

// containerJSON is one container in /api/containers.
type containerJSON struct {
	Engine string `json:"engine"`
	ID     string `json:"id"`
	Name   string `json:"name,omitempty"`
	Cgroup string `json:"cgroup"`
	// ContainerdNamespace is the containerd namespace it lives in (k8s.io
	// for kubelet's), when containerd named it.
	ContainerdNamespace string `json:"containerd_namespace,omitempty"`
	// The pod, from the runtime's copy of kubelet's labels or kubelet's
	// log directories: its UID (also from the cgroup path), namespace
	// and name, the container's name in the pod spec, and whether this
	// is the pod's sandbox ("pause"), which holds the namespaces its
	// containers share.
	PodUID       string `json:"pod_uid,omitempty"`
	PodNamespace string `json:"pod_namespace,omitempty"`
	Pod          string `json:"pod,omitempty"`
	PodContainer string `json:"pod_container,omitempty"`
	PodSandbox   bool   `json:"pod_sandbox,omitempty"`
	PID          int    `json:"pid"`
	Processes    int    `json:"processes"`
	// SharedWithHost is, per namespace type, whether a process of the
	// container is in the host's namespace; absent without a host
	// reference.
	SharedWithHost map[string]bool `json:"shared_with_host,omitempty"`
	Isolation      *Isolation      `json:"isolation,omitempty"`
	Interfaces     []NetDevLine    `json:"interfaces,omitempty"`
}

func (a API) containers(ctx context.Context, _ Query) (any, error) {
	p, err := a.pass(ctx)
	if err != nil {
		return nil, err
	}
	out := []containerJSON{}
	for _, c := range p.Containers {
		j := containerJSON{Engine: c.Engine, ID: c.ID, Name: c.Name, Cgroup: c.Cgroup, ContainerdNamespace: c.Namespace,
			PodUID: c.Pod.UID, PodNamespace: c.Pod.Namespace, Pod: c.Pod.Name, PodContainer: c.Pod.Container, PodSandbox: c.Pod.Sandbox,
			PID: c.PID, Processes: c.Processes, Isolation: c.Isolation, Interfaces: c.NetDev}
		if c.Shared != nil {
			j.SharedWithHost = map[string]bool{}
			for i, t := range SharedTypes {
				j.SharedWithHost[t.Name()] = c.Shared[i]
			}
		}
		out = append(out, j)
	}
	return struct {
		SchemaVersion schema.Version  `json:"schema_version"`
		Source        string          `json:"source"`
		HostNote      string          `json:"host_note,omitempty"`
		Containers    []containerJSON `json:"containers"`
	}{Source: p.Model.Source, HostNote: p.HostNote, Containers: out}, nil
}

// compare is `compare --json A B [--kernel]`.
func (a API) compare(_ context.Context, q Query) (any, error) {
	argA, err := q.Require("a")
	if err != nil {
		return nil, err
	}
	argB, err := q.Require("b")
	if err != nil {
		return nil, err
	}
	kernel := false
	if s := q.Get("kernel"); s != "" {
		if kernel, err = strconv.ParseBool(s); err != nil {
			return nil, BadRequest("bad_parameter", "kernel=%q: want true or false", s)
		}
	}
	for _, p := range []struct{ name, arg string }{{"a", argA}, {"b", argB}} {
		if _, err := inspect.ParseTarget(p.arg); err != nil {
			return nil, FromError(err, p.name)
		}
	}
	out, err := inspect.CompareTasks(argA, argB, kernel)
	if err != nil {
		return nil, FromError(err, "a or b")
	}
	return out, nil
}

// Health is 200 once the last pass succeeded, with what it found.
func (a API) Health() (any, error) {
	p, err, ended, ok := a.Cache.Last()
	if !ok {
		// The first scrape has not come yet: run a pass, so that a
		// readiness probe says whether the server can do its job.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if p, err = a.Cache.Get(ctx); err == nil {
			_, _, ended, _ = a.Cache.Last()
		}
	}
	if err != nil {
		return nil, err
	}
	h := struct {
		SchemaVersion schema.Version `json:"schema_version"`
		Status        string         `json:"status"`
		Source        string         `json:"source"`
		LastPass      time.Time      `json:"last_pass"`
		Seconds       float64        `json:"pass_seconds"`
		Namespaces    int            `json:"namespaces"`
		Tasks         int            `json:"tasks"`
		Containers    int            `json:"containers"`
		HostNote      string         `json:"host_note,omitempty"`
		Policy        string         `json:"policy,omitempty"`
	}{schema.Version{}, "ok", p.Model.Source, ended.UTC(), p.Duration.Seconds(), len(p.Model.Namespaces), len(p.Model.Tasks),
		len(p.Containers), p.HostNote, a.Policy.status()}
	return h, nil
}
