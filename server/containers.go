package server

import (
	"cmp"
	"errors"
	"slices"
	"strings"

	"github.com/nsinspect/nsinspect/engine"
	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/procinfo"
)

// Observed is one container the pass found, recognised from the cgroup
// path of its processes (engine.FromCgroups: docker, podman, containerd,
// CRI-O and kubelet's kubepods layouts), and what the pass measured of
// it. Its Pod is what the runtime says (containerd's copy of kubelet's
// labels, Scanner.Pods) or, failing that, the pod UID its cgroup path
// names with the names kubelet's log directories give; zero outside
// Kubernetes. Its PID is the container's lowest PID (its init, as a rule).
type Observed struct {
	engine.Container
	// Processes counts its processes (thread-group leaders).
	Processes int
	// Shared says, per SharedTypes entry, whether some process of the
	// container is in the host's namespace of that type (the kernel's
	// identity: NS_GET_ID, or the inode on older kernels); nil without a
	// host reference.
	Shared []bool
	// NetDev is the interface counters of the container's own network
	// namespace (/proc/PID/net/dev); nil when it shares the host's, or
	// could not be read.
	NetDev []NetDevLine
	// Isolation is filled by the Scanner's Enrich hook; nil when not.
	Isolation *Isolation
}

// Isolation is what the alerting gauges need of a container's posture.
type Isolation struct {
	// Capabilities are the effective capabilities of the container's
	// init that PrivilegedCapabilities lists.
	Capabilities    []string `json:"capabilities"`
	SeccompDisabled bool     `json:"seccomp_disabled"`
	NoNewPrivs      bool     `json:"no_new_privs"`
	// SensitiveMounts counts host paths mounted in, by kind (an
	// engine's socket, the host's /, /proc, /sys, a read-write cgroupfs).
	SensitiveMounts map[string]int `json:"sensitive_mounts"`
}

// PrivilegedCapabilities are the capabilities that are as good as root on
// the host for a process that holds them in its effective set: loading
// modules or BPF, raw device or memory access, mounting and namespace
// administration, tracing any process, reading any file, changing the
// host's network. The per-container gauge has one series per entry, so its
// cardinality is fixed.
var PrivilegedCapabilities = []string{
	"CAP_SYS_ADMIN", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_PTRACE",
	"CAP_DAC_READ_SEARCH", "CAP_NET_ADMIN", "CAP_BPF",
	"CAP_PERFMON", "CAP_SYS_BOOT", "CAP_MAC_ADMIN", "CAP_SYSLOG",
}

// nsset is the ten namespaces of a task, as a map key.
type nsset [10]*model.Namespace

// containers groups the pass's processes by their set of namespaces and
// reads the cgroup of each set's lowest PID: every engine gives each
// container its own mount namespace at least, so the processes of one set
// are one container's (or the host's), and a pass over 6,000 processes
// reads a few hundred cgroup files, not 6,000. A set whose cgroup names
// the same container as another (a process that joined one of the host's
// namespaces with setns) is counted with that container.
func containers(p *Pass, k Kubelet) []*Observed {
	sets := map[nsset][]*model.Task{}
	for _, t := range p.Model.Tasks {
		if t.IsThread() || t.Kernel || len(t.NS) != len(nsset{}) {
			continue
		}
		sets[nsset(t.NS)] = append(sets[nsset(t.NS)], t)
	}
	var host nsset
	if p.Host != nil {
		host = nsset(p.Host)
	}
	byID := map[string]*Observed{}
	for set, tasks := range sets {
		if p.Host != nil && set == host {
			continue // the host's own processes
		}
		c, err := containerOf(tasks[0], set)
		if err != nil {
			p.Fail("cgroup")
			continue
		}
		if c == nil {
			continue
		}
		have := byID[c.ID]
		if have == nil {
			have = c
			if p.Host != nil {
				have.Shared = make([]bool, len(SharedTypes))
			}
			byID[c.ID] = have
		} else if tasks[0].PID < have.PID {
			have.PID = tasks[0].PID
		}
		have.Processes += len(tasks)
		for i, t := range SharedTypes {
			if have.Shared != nil && set[linkIndex(t)] != nil && set[linkIndex(t)] == host[linkIndex(t)] {
				have.Shared[i] = true
			}
		}
	}
	list := make([]*Observed, 0, len(byID))
	for _, c := range byID {
		list = append(list, c)
	}
	slices.SortFunc(list, func(a, b *Observed) int { return cmp.Or(cmp.Compare(a.Engine, b.Engine), cmp.Compare(a.ID, b.ID)) })
	if len(list) > 0 {
		k.name(p, list)
	}
	return list
}

// containerOf reads the cgroup of the lowest PID t of a set of namespaces,
// through a pin, and checks that the pinned process is still in the set's
// mount and net namespaces, so that a PID reused since the pass is not
// taken for the set's. nil, nil: not in a container, or gone.
func containerOf(t *model.Task, set nsset) (*Observed, error) {
	pin, err := procinfo.Open(t.PID)
	if err != nil {
		return nil, ignoreGone(err)
	}
	defer pin.Close()
	cgs, err := pin.Cgroups()
	if err != nil {
		return nil, ignoreGone(err)
	}
	for _, l := range []namespaces.Type{namespaces.Mount, namespaces.Net} {
		ns := set[linkIndex(l)]
		if ns == nil {
			continue
		}
		link, err := pin.Readlink("ns/" + l.Name())
		if _, ino, ok := namespaces.ParseLinkString(link); err != nil || !ok || ino != ns.Ino {
			return nil, nil // gone, or its PID is another process's now
		}
	}
	ec := engine.FromCgroups(cgs)
	if ec == nil {
		return nil, nil
	}
	c := &Observed{Container: *ec}
	c.PID = t.PID
	c.Pod.UID = podUID(ec.Cgroup)
	return c, nil
}

func ignoreGone(err error) error {
	if errors.Is(err, procinfo.ErrProcessGone) {
		return nil
	}
	return err
}

// podUID is the pod UID a kubelet cgroup path carries: "pod<UID>" with
// the cgroupfs driver (/kubepods/burstable/pod0f6c.../ID), or
// "kubepods-<qos>-pod<UID with _ for ->.slice" with the systemd driver.
func podUID(cgroup string) string {
	for _, comp := range strings.Split(cgroup, "/") {
		s := strings.TrimSuffix(comp, ".slice")
		if i := strings.LastIndex(s, "pod"); i >= 0 && (i == 0 || s[i-1] == '-') {
			uid := strings.ReplaceAll(s[i+3:], "_", "-")
			if isUID(uid) {
				return uid
			}
		}
	}
	return ""
}

// isUID reports whether s is a Kubernetes UID: a UUID in lower-case hex.
func isUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return false
			}
		}
	}
	return true
}
