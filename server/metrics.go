package server

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/nsinspect/nsinspect/internal/version"
	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/posture"
)

// Metrics is the server's registry: its own (never the global one), with
// the Go runtime's and the process's standard collectors, the counters and
// histogram that outlive a pass, and a collector over the cached pass.
type Metrics struct {
	Registry *prometheus.Registry

	scanDuration *prometheus.HistogramVec
	errors       *prometheus.CounterVec
	lastSuccess  prometheus.Gauge
	policyOK     prometheus.Gauge
	policyAt     prometheus.Gauge
	policyRules  prometheus.Gauge
}

// ContainerLabels are the labels of every per-container series: the
// engine, the full container id, and, where the node gives them, the
// container's name and its pod's namespace and name (the names
// kube-state-metrics uses, so that the two join; scrape with
// honor_labels so that the target's own namespace and pod do not
// overwrite them).
var ContainerLabels = []string{"engine", "container_id", "container", "namespace", "pod"}

// NewMetrics registers everything. get returns the pass a scrape reports
// (the cache's Get).
func NewMetrics(get func(context.Context) (*Pass, error)) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		scanDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "nsinspect_scan_duration_seconds",
			Help:    "Duration of discovery passes (the model, containers, their isolation facts), by the source that read the tasks.",
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
		}, []string{"source"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nsinspect_errors_total",
			Help: "Errors met by discovery passes, by kind: scan (the pass failed), cgroup, engine_api, kubelet_logs, netdev, posture, policy.",
		}, []string{"kind"}),
		lastSuccess: newGauge("nsinspect_scan_last_success_timestamp_seconds",
			"When the last successful discovery pass ended, in seconds since the epoch."),
		policyOK: newGauge("nsinspect_policy_last_reload_success",
			"1 if the last load of --policy (at start or on SIGHUP) succeeded, 0 if it failed and the previous policy is still in force."),
		policyAt: newGauge("nsinspect_policy_last_reload_timestamp_seconds",
			"When --policy was last loaded, successfully or not, in seconds since the epoch."),
		policyRules: newGauge("nsinspect_policy_rules",
			"Rules of the policy in force."),
	}
	for _, k := range ErrorKinds {
		m.errors.WithLabelValues(k)
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "nsinspect_build_info",
		Help: "Always 1; the labels name the nsinspect version and the Go version that built it.",
	}, []string{"version", "goversion"})
	v := version.Get()
	build.WithLabelValues(v.Version, v.GoVersion).Set(1)
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		build, m.scanDuration, m.errors, m.lastSuccess,
		&passCollector{get: get, ds: newDescs()},
	)
	return m
}

// newGauge is a gauge the server sets itself, unlabelled.
func newGauge(name, help string) prometheus.Gauge {
	return prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
}

// EnablePolicy adds the policy gauges (only a server with --policy has
// them).
func (m *Metrics) EnablePolicy() {
	m.Registry.MustRegister(m.policyOK, m.policyAt, m.policyRules)
}

// PolicyLoaded records a load of the policy file: rules is the number of
// rules in force afterwards.
func (m *Metrics) PolicyLoaded(err error, rules int) {
	m.policyAt.Set(float64(time.Now().UnixNano()) / 1e9)
	m.policyRules.Set(float64(rules))
	if err != nil {
		m.policyOK.Set(0)
		m.errors.WithLabelValues("policy").Inc()
		return
	}
	m.policyOK.Set(1)
}

// observe records a pass that ended; nil-safe.
func (m *Metrics) observe(p *Pass, source string) {
	if m == nil {
		return
	}
	m.scanDuration.WithLabelValues(source).Observe(p.Duration.Seconds())
	for k, n := range p.Errors {
		m.errors.WithLabelValues(k).Add(float64(n))
	}
	if p.Model != nil {
		m.lastSuccess.Set(float64(p.Started.Add(p.Duration).UnixNano()) / 1e9)
	}
}

// passCollector turns the pass a scrape is served from into gauges. It
// describes nothing (an "unchecked" collector): the series a pass gives
// depend on the containers found, and every one is built from the fixed
// descriptors in ds.
type passCollector struct {
	get func(context.Context) (*Pass, error)
	ds  *descs
	mu  sync.Mutex
}

func (c *passCollector) Describe(chan<- *prometheus.Desc) {}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

func cdesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, append(append([]string{}, ContainerLabels...), labels...), nil)
}

// descs are the descriptors of the series a pass gives. They are made
// with the collector, by serve alone: as package-level vars they were
// made at every start of nsinspect, for every command.
type descs struct {
	success, scanTime, scanInfo, hostRef                    *prometheus.Desc
	namespaces, held, tasks, unreadable, denied, containers *prometheus.Desc
	cInfo, cProcs, cShared, cCap, cSeccomp, cNNP, cMounts   *prometheus.Desc
	policy, policyUndecided                                 *prometheus.Desc
	netRxB, netTxB, netRxP, netTxP, netRxE, netTxE          *prometheus.Desc
}

func newDescs() *descs {
	return &descs{
		success:         desc("nsinspect_scan_success", "1 if the discovery pass this scrape reports succeeded, else 0 (and no pass-derived series follow)."),
		scanTime:        desc("nsinspect_scan_timestamp_seconds", "When the pass this scrape reports started; passes are shared for --min-interval."),
		scanInfo:        desc("nsinspect_scan_info", "Always 1; source is how the pass read tasks: bpf (the kernel's task list) or proc (/proc).", "source"),
		hostRef:         desc("nsinspect_host_reference", "1 if PID 1 is the host's init (nsinspect runs in the initial pid namespace), so that containers are compared with the host; 0 if not, and no container_host_namespace_shared series follow."),
		namespaces:      desc("nsinspect_namespaces", "Namespaces found, by type.", "type"),
		held:            desc("nsinspect_namespaces_held", "Namespaces by type and by what holds them: process, for_children, thread, bindmount, fd, zombie, socket, unborn (a pid namespace with no process yet), parent/owner (reached only by the hierarchy), or listns (listed active by listns(2), its holder not found by the pass). A namespace held several ways counts once under each.", "type", "held_by"),
		tasks:           desc("nsinspect_tasks", "Tasks seen by the pass, by kind: process (a thread-group leader), thread, kernel_thread.", "kind"),
		unreadable:      desc("nsinspect_tasks_unreadable", "Tasks with namespace links that could not be read, by reason: denied (ptrace access refused), zombie (its nsproxy was released at exit), exiting (released while alive: the task is exiting).", "reason"),
		denied:          desc("nsinspect_scan_denied", "What the pass was not allowed to read, by object: ns_links and fds (processes), threads, mountinfo, relatives (NS_GET_PARENT/NS_GET_USERNS calls), sockets (fd tables whose sockets pidfd_getfd may not copy).", "object"),
		containers:      desc("nsinspect_containers", "Containers found, by engine.", "engine"),
		cInfo:           cdesc("nsinspect_container_info", "Always 1 for each container found; the labels identify it.", "pod_uid"),
		cProcs:          cdesc("nsinspect_container_processes", "Processes (thread-group leaders) in the container."),
		cShared:         cdesc("nsinspect_container_host_namespace_shared", "1 if some process of the container is in the host's namespace of this type (PID 1's, compared by the kernel's namespace identity), else 0.", "type"),
		cCap:            cdesc("nsinspect_container_privileged_capability", "1 if the container's init holds this host-root-equivalent capability in its effective set, else 0.", "capability"),
		cSeccomp:        cdesc("nsinspect_container_seccomp_disabled", "1 if the container's init runs without seccomp (status Seccomp: 0), else 0."),
		cNNP:            cdesc("nsinspect_container_no_new_privs", "1 if the container's init has no_new_privs set, else 0."),
		cMounts:         cdesc("nsinspect_container_sensitive_mounts", "Host paths mounted into the container that give power over the host, by kind.", "kind"),
		policy:          cdesc("nsinspect_policy_violations", "Violations of a policy rule by the container (0: the rule applies and holds). Absent where the rule could not be decided (see nsinspect_policy_undecided).", "rule"),
		policyUndecided: cdesc("nsinspect_policy_undecided", "1 where a policy rule could not be decided for the container: its match selects on a name, image or labels that the container's engine could not be asked for. Never counted as holding.", "rule"),
		netRxB:          cdesc("nsinspect_container_network_receive_bytes_total", "Bytes received by an interface of the container's own network namespace (/proc/PID/net/dev).", "interface"),
		netTxB:          cdesc("nsinspect_container_network_transmit_bytes_total", "Bytes sent by an interface of the container's own network namespace.", "interface"),
		netRxP:          cdesc("nsinspect_container_network_receive_packets_total", "Packets received by an interface of the container's own network namespace.", "interface"),
		netTxP:          cdesc("nsinspect_container_network_transmit_packets_total", "Packets sent by an interface of the container's own network namespace.", "interface"),
		netRxE:          cdesc("nsinspect_container_network_receive_errors_total", "Receive errors of an interface of the container's own network namespace.", "interface"),
		netTxE:          cdesc("nsinspect_container_network_transmit_errors_total", "Transmit errors of an interface of the container's own network namespace.", "interface"),
	}
}

// SensitiveMountKinds are the kinds nsinspect_container_sensitive_mounts
// has a series for: posture's, so that the two cannot drift.
var SensitiveMountKinds = posture.SensitiveKinds

var heldBy = []struct {
	name string
	bits model.Source
}{
	{"process", model.FromProcess}, {"for_children", model.FromChildren}, {"thread", model.FromThread},
	{"bindmount", model.FromBindMount}, {"fd", model.FromFD}, {"zombie", model.FromZombie},
	{"parent", model.FromParent}, {"owner", model.FromOwner},
	{"socket", model.FromSocket}, {"unborn", model.FromUnborn}, {"listns", model.FromListns},
}

func (c *passCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ds := c.ds
	p, err := c.get(ctx)
	if err != nil || p == nil {
		ch <- gauge(ds.success, 0)
		return
	}
	ch <- gauge(ds.success, 1)
	ch <- gauge(ds.scanTime, float64(p.Started.UnixNano())/1e9)
	ch <- gauge(ds.scanInfo, 1, p.Model.Source)
	ch <- gauge(ds.hostRef, b2f(p.Host != nil))
	collectNamespaces(ch, ds, p.Model)
	collectTasks(ch, ds, p.Model)
	collectContainers(ch, ds, p)
}

func gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func counter(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func collectNamespaces(ch chan<- prometheus.Metric, ds *descs, m *model.Model) {
	byType := map[namespaces.Type]int{}
	held := map[namespaces.Type][]int{}
	for _, ns := range m.Namespaces {
		byType[ns.Type]++
		if held[ns.Type] == nil {
			held[ns.Type] = make([]int, len(heldBy))
		}
		for i, h := range heldBy {
			if ns.Sources&h.bits != 0 {
				held[ns.Type][i]++
			}
		}
	}
	for _, name := range namespaces.TypeNames() {
		t, _ := namespaces.ParseType(name)
		ch <- gauge(ds.namespaces, float64(byType[t]), name)
		for i, h := range heldBy {
			n := 0
			if held[t] != nil {
				n = held[t][i]
			}
			ch <- gauge(ds.held, float64(n), name, h.name)
		}
	}
}

func collectTasks(ch chan<- prometheus.Metric, ds *descs, m *model.Model) {
	var procs, threads, kthreads int
	unreadable := map[string]int{"denied": 0, "zombie": 0, "exiting": 0}
	for _, t := range m.Tasks {
		switch {
		case t.Kernel:
			kthreads++
			continue
		case t.IsThread():
			threads++
		default:
			procs++
		}
		if r := unreadableReason(t); r != "" {
			unreadable[r]++
		}
	}
	ch <- gauge(ds.tasks, float64(procs), "process")
	ch <- gauge(ds.tasks, float64(threads), "thread")
	ch <- gauge(ds.tasks, float64(kthreads), "kernel_thread")
	for _, r := range []string{"denied", "zombie", "exiting"} {
		ch <- gauge(ds.unreadable, float64(unreadable[r]), r)
	}
	d := m.Denied
	for _, o := range []struct {
		name string
		n    int
	}{{"ns_links", d.NSLinks}, {"threads", d.Threads}, {"fds", d.FDs}, {"mountinfo", d.Mountinfo}, {"relatives", d.Relatives}, {"sockets", d.Sockets}} {
		ch <- gauge(ds.denied, float64(o.n), o.name)
	}
}

// unreadableReason sorts why a task's links are missing, from the words
// discover puts in model.Task.Missing; "" when every link that exists
// was read (a pid_for_children with no init yet is not unreadable).
func unreadableReason(t *model.Task) string {
	for i, why := range t.Missing {
		if why == "" || (i < len(t.NS) && t.NS[i] != nil) {
			continue
		}
		switch {
		case hasPrefix(why, "ptrace access refused"):
			return "denied"
		case t.Zombie():
			return "zombie"
		case hasPrefix(why, "unshare(CLONE_NEWPID)"):
			continue
		default:
			return "exiting"
		}
	}
	return ""
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

func labelsOf(c *Observed) []string {
	return []string{c.Engine, c.ID, c.Name, c.Pod.Namespace, c.Pod.Name}
}

func collectContainers(ch chan<- prometheus.Metric, ds *descs, p *Pass) {
	engines := map[string]int{"docker": 0, "podman": 0, "containerd": 0, "cri-o": 0, "kubernetes": 0}
	for _, c := range p.Containers {
		engines[c.Engine]++
		l := labelsOf(c)
		ch <- gauge(ds.cInfo, 1, append(l, c.Pod.UID)...)
		ch <- gauge(ds.cProcs, float64(c.Processes), l...)
		if c.Shared != nil {
			for i, t := range SharedTypes {
				ch <- gauge(ds.cShared, b2f(c.Shared[i]), append(l, t.Name())...)
			}
		}
		for _, nd := range c.NetDev {
			li := append(l, nd.Name)
			ch <- counter(ds.netRxB, float64(nd.RxBytes), li...)
			ch <- counter(ds.netTxB, float64(nd.TxBytes), li...)
			ch <- counter(ds.netRxP, float64(nd.RxPackets), li...)
			ch <- counter(ds.netTxP, float64(nd.TxPackets), li...)
			ch <- counter(ds.netRxE, float64(nd.RxErrors), li...)
			ch <- counter(ds.netTxE, float64(nd.TxErrors), li...)
		}
		if iso := c.Isolation; iso != nil {
			for _, cp := range PrivilegedCapabilities {
				held := false
				for _, h := range iso.Capabilities {
					held = held || h == cp
				}
				ch <- gauge(ds.cCap, b2f(held), append(l, cp)...)
			}
			ch <- gauge(ds.cSeccomp, b2f(iso.SeccompDisabled), l...)
			ch <- gauge(ds.cNNP, b2f(iso.NoNewPrivs), l...)
			for _, k := range SensitiveMountKinds {
				ch <- gauge(ds.cMounts, float64(iso.SensitiveMounts[k]), append(l, k)...)
			}
		}
	}
	for e, n := range engines {
		ch <- gauge(ds.containers, float64(n), e)
	}
	for _, r := range p.Policy {
		if r.Undecided != "" {
			ch <- gauge(ds.policyUndecided, 1, append(labelsOf(r.Container), r.Rule)...)
			continue
		}
		ch <- gauge(ds.policy, float64(r.Violations), append(labelsOf(r.Container), r.Rule)...)
	}
}
