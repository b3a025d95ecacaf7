package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/internal/engine"
	"github.com/nsinspect/nsinspect/policy"
	"github.com/nsinspect/nsinspect/posture"
	"github.com/nsinspect/nsinspect/procinfo"
)

func init() {
	register(&cobra.Command{
		Use:   "audit TARGET...",
		Short: "Audit a process or container's isolation: namespaces, capabilities, seccomp, LSM, user mapping, mounts, devices, cgroup",
	}, newAuditCmd)
}

// auditJSON is one target in `audit --json`.
type auditJSON struct {
	Target    auditTargetJSON `json:"target"`
	Reference auditRefJSON    `json:"reference"`
	Facts     *posture.Facts  `json:"facts"`
	// Members are the container's other processes whose namespaces
	// differ from its init's: a process that joined a namespace after
	// the container started, which the engine's declaration cannot show.
	Members []memberJSON `json:"members,omitempty"`
	Notes   []string     `json:"notes,omitempty"`
}

type auditTargetJSON struct {
	Arg       string              `json:"arg"`
	PID       int                 `json:"pid"`
	Comm      string              `json:"comm"`
	Container *procinfo.Container `json:"container,omitempty"`
	Image     string              `json:"image,omitempty"`
	Labels    map[string]string   `json:"labels,omitempty"`
	// Declared is what the engine says it configured, for comparing
	// with the kernel's facts.
	Declared *engine.Declared `json:"declared,omitempty"`
}

type auditRefJSON struct {
	PID  int    `json:"pid"` // 0: no reference (inside a container)
	Comm string `json:"comm,omitempty"`
	Why  string `json:"why"`
}

// memberJSON is one process of the container whose namespace links are
// not its init's.
type memberJSON struct {
	PID     int               `json:"pid"`
	Comm    string            `json:"comm"`
	Differs map[string]string `json:"differs"` // link -> the member's link, where init's differs
}

// auditReport is `audit --json` as a whole.
type auditReport struct {
	Targets []auditJSON   `json:"targets"`
	Policy  *policyReport `json:"policy,omitempty"`
}

type policyReport struct {
	File       string             `json:"file"`
	Rules      int                `json:"rules"`
	Results    []policyResultJSON `json:"results"`
	Violations []policy.Violation `json:"violations"`
	Unmatched  []string           `json:"unmatched_rules,omitempty"`
	results    []policy.Result    // for --junit
}

type policyResultJSON struct {
	Rule       string `json:"rule"`
	Target     string `json:"target"`
	Violations int    `json:"violations"`
}

func newAuditCmd() *cobra.Command {
	var (
		asJSON        bool
		against       string
		policyFile    string
		junitFile     string
		engineTimeout time.Duration
	)
	c := &cobra.Command{
		Long: `audit reads, from the kernel, what isolates a process from the host, each fact
with the file and line (or the call) it came from:

  namespaces        the ten /proc/PID/ns links, shared or separate against
                    the reference (stat(2): device and inode)
  capabilities      effective, permitted, inheritable, bounding and ambient
                    sets (/proc/PID/status CapEff ... CapAmb), as names
  no_new_privs      PR_SET_NO_NEW_PRIVS (status NoNewPrivs, Linux 4.10+)
  seccomp           disabled, strict or filter, and the filter count
                    (status Seccomp, Seccomp_filters: Linux 5.9+)
  lsm               /proc/PID/attr/current (and attr/apparmor/current), or
                    none with the reason
  uid_map, gid_map  the maps, and whether uid 0 inside is uid 0 on the host
  masked_paths      /proc and /sys paths hidden by a /dev/null bind mount or
                    an empty read-only tmpfs (/proc/PID/mountinfo)
  readonly_paths    /, /proc/sys, /sys, ... mounted read-only
  sensitive_mounts  host paths mounted in: an engine's socket, the host's /,
                    /proc, /sys, /run, /dev, a cgroupfs mounted read-write
  devices           the device nodes under its /dev
  cgroup            pids.max and memory.max (v1: memory.limit_in_bytes)

TARGET is a PID, "self", docker:NAME, podman:NAME (rootless: podman:USER/NAME)
or runc:ID; the engine's API gives the PID of the container's init, and a
container's other processes are checked too: one that joined a host
namespace after the container started (nsenter, a setns(2) helper) makes
that namespace shared, with its PID as evidence, whatever the engine
declares.

The reference is the host: PID 1 when nsinspect runs in the initial PID
namespace (or nsinspect itself where PID 1 cannot be read), or --against
PID. Inside a container, with no host process visible, there is no
reference: a namespace is proven shared with the host only when its inode
is one of the kernel's fixed initial inodes (PROC_*_INIT_INO; net and mnt
have one since Linux 6.x, see 'nsinspect audit --help' in the README), and
the report says where proof ends.

--policy FILE checks YAML rules (docs/policy.md): exit 0 when every rule
that matches a target holds, 1 with one line per violation on stderr, 2 for
a bad file (FILE:LINE:COL). --junit FILE writes JUnit XML: one testcase per
rule and target, a failure with the evidence per violation.

` + exitCodesHelp,
		Example: `  nsinspect audit docker:web
  nsinspect audit --json 4242
  nsinspect audit self
  nsinspect audit docker:web podman:db --policy policy.yaml --junit audit.xml`,
		Args: usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			var pol *policy.Policy
			if junitFile != "" && policyFile == "" {
				return usageErrorf("--junit %s needs --policy FILE: the report's testcases are the policy's rules", junitFile)
			}
			if policyFile != "" {
				p, err := policy.Load(policyFile)
				if err != nil {
					return usageErrorf("%s", policyError(err))
				}
				pol = p
			}
			ref, refInfo, err := auditReference(against)
			if err != nil {
				return err
			}
			if ref != nil {
				defer ref.Close()
			}
			ctx := context.Background()
			report := auditReport{}
			var targets []policy.Target
			for _, arg := range args {
				a, pt, err := auditOne(ctx, arg, ref, refInfo, engineTimeout)
				if err != nil {
					return err
				}
				report.Targets = append(report.Targets, a)
				targets = append(targets, pt)
			}
			if pol != nil {
				report.Policy = evaluatePolicy(pol, policyFile, report.Targets, targets)
			}
			w := cmd.OutOrStdout()
			if asJSON {
				if err := writeJSON(w, report); err != nil {
					return err
				}
			} else {
				writeAuditReport(w, report)
			}
			if junitFile != "" && report.Policy != nil {
				if err := writeJUnitFile(junitFile, report.Policy.results); err != nil {
					return err
				}
			}
			if report.Policy != nil && len(report.Policy.Violations) > 0 {
				for _, v := range report.Policy.Violations {
					fmt.Fprintln(cmd.ErrOrStderr(), "nsinspect: violation: "+v.String())
				}
				return errAssertion
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print a JSON object: {\"targets\": [{\"target\", \"reference\", \"facts\", \"members\"}], \"policy\"}")
	c.Flags().StringVar(&against, "against", "", "audit against this PID's namespaces instead of the host's")
	c.Flags().StringVar(&policyFile, "policy", "", "check the facts against the rules of this YAML `FILE` (exit 1 on a violation)")
	c.Flags().StringVar(&junitFile, "junit", "", "with --policy, write a JUnit XML report to `FILE`")
	c.Flags().DurationVar(&engineTimeout, "engine-timeout", 2*time.Second, "how long to wait for a container engine's answer")
	return c
}

// policyError is a policy file's errors on one line: the first, and how
// many more.
func policyError(err error) string {
	lines := strings.Split(strings.TrimSpace(err.Error()), "\n")
	if len(lines) == 1 {
		return "bad policy: " + lines[0]
	}
	return fmt.Sprintf("bad policy: %s (and %d more errors)", lines[0], len(lines)-1)
}

// auditReference pins the reference process: --against PID, else PID 1
// when we run in the initial pid namespace, else nsinspect itself when
// PID 1 cannot be read; nil inside a container (a pid namespace that is
// not the initial one), where no host process is visible.
func auditReference(against string) (*procinfo.Proc, auditRefJSON, error) {
	if against != "" {
		p, err := openTask(against)
		if err != nil {
			return nil, auditRefJSON{}, err
		}
		return p, auditRefJSON{PID: p.PID, Comm: commOf(p), Why: "--against " + against}, nil
	}
	initial, err := inInitialPIDNamespace()
	if err != nil {
		return nil, auditRefJSON{}, fmt.Errorf("finding the host's namespaces: %w", err)
	}
	if !initial {
		return nil, auditRefJSON{Why: "nsinspect runs outside the initial pid namespace (in a container?): no host process is visible, so sharing is proven only by the kernel's fixed initial inodes"}, nil
	}
	if p, err := procinfo.Open(1); err == nil {
		if _, err := p.Readlink("ns/net"); err == nil {
			return p, auditRefJSON{PID: 1, Comm: commOf(p), Why: "PID 1 of the initial pid namespace: the host"}, nil
		} else {
			p.Close()
			self, serr := procinfo.Self()
			if serr != nil {
				return nil, auditRefJSON{}, serr
			}
			return self, auditRefJSON{PID: self.PID, Comm: commOf(self),
				Why: fmt.Sprintf("PID 1's namespaces cannot be read (%v): the reference is nsinspect itself, which runs in the initial pid namespace", unwrapReason(err))}, nil
		}
	}
	self, err := procinfo.Self()
	if err != nil {
		return nil, auditRefJSON{}, err
	}
	return self, auditRefJSON{PID: self.PID, Comm: commOf(self), Why: "PID 1 cannot be opened: the reference is nsinspect itself, which runs in the initial pid namespace"}, nil
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

// procPIDInitIno is PROC_PID_INIT_INO (include/linux/proc_ns.h): the
// initial pid namespace's inode, fixed on every kernel since 3.8.
const procPIDInitIno = 0xEFFFFFFC

// inInitialPIDNamespace reports whether nsinspect runs in the kernel's
// initial pid namespace: stat(2) of /proc/self/ns/pid alone says so.
func inInitialPIDNamespace() (bool, error) {
	fi, err := os.Stat("/proc/self/ns/pid")
	if err != nil {
		return false, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false, fmt.Errorf("stat /proc/self/ns/pid: no inode")
	}
	return st.Ino == procPIDInitIno, nil
}

// auditOne resolves one TARGET, pins it and reads its facts.
func auditOne(ctx context.Context, arg string, ref *procinfo.Proc, refInfo auditRefJSON, timeout time.Duration) (auditJSON, policy.Target, error) {
	out := auditJSON{Reference: refInfo}
	pt := policy.Target{Engine: "host"}
	var p *procinfo.Proc
	var err error
	if eng, name, ok := strings.Cut(arg, ":"); ok && engine.Known(eng) {
		if name == "" {
			return out, pt, usageErrorf("audit %s: no container name after %q (want %s:NAME)", arg, eng+":", eng)
		}
		lctx, cancel := context.WithTimeout(ctx, timeout)
		c, lerr := engine.Lookup(lctx, eng, name)
		cancel()
		if lerr != nil {
			return out, pt, usageErrorf("audit %s: %v", arg, lerr)
		}
		p, err = procinfo.Open(c.PID)
		if err != nil {
			return out, pt, usageErrorf("audit %s: the engine says its init is PID %d, which is gone (%v): is the container restarting?", arg, c.PID, err)
		}
		out.Target.Container = &procinfo.Container{Engine: c.Engine, ID: c.ID, Name: c.Name}
		out.Target.Image, out.Target.Labels, out.Target.Declared = c.Image, c.Labels, &c.Declared
		pt = policy.Target{Engine: c.Engine, ID: c.ID, Name: c.Name, Image: c.Image, Labels: c.Labels}
	} else {
		if ok && !isPIDArg(arg) {
			return out, pt, usageErrorf("audit %s: unknown engine %q (want a PID, self, %s)", arg, eng, strings.Join(engine.TargetForms(), ", "))
		}
		p, err = openTask(arg)
		if err != nil {
			return out, pt, err
		}
		c, note := engine.Recognize(ctx, p, timeout)
		if note != "" {
			out.Notes = append(out.Notes, note)
		}
		if c != nil {
			out.Target.Container = &procinfo.Container{Engine: c.Engine, ID: c.ID, Name: c.Name}
			out.Target.Image, out.Target.Labels = c.Image, c.Labels
			pt = policy.Target{Engine: c.Engine, ID: c.ID, Name: c.Name, Image: c.Image, Labels: c.Labels}
		}
	}
	defer p.Close()
	out.Target.Arg, out.Target.PID, out.Target.Comm = arg, p.PID, commOf(p)
	pt.PID = p.PID
	facts, err := posture.Read(p, ref)
	if err != nil {
		if errors.Is(err, procinfo.ErrProcessGone) {
			return out, pt, usageErrorf("audit %s: PID %d exited while it was read: nothing is reported for it", arg, p.PID)
		}
		return out, pt, fmt.Errorf("audit %s: %w", arg, err)
	}
	out.Facts = facts
	if out.Target.Container != nil {
		out.Members = containerMembers(p, out.Target.Container.ID, ref, facts)
	}
	return out, pt, nil
}

// isPIDArg: "PID:TID" also has a colon.
func isPIDArg(arg string) bool {
	_, err := parseTask(arg)
	return err == nil
}
