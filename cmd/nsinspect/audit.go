package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/inspect"
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
	// Undecided are the rules that could not be decided for a target,
	// with why: never counted as holding.
	Undecided []undecidedJSON `json:"undecided,omitempty"`
	results   []policy.Result // for --junit
}

type undecidedJSON struct {
	Rule   string `json:"rule"`
	Target string `json:"target"`
	Why    string `json:"why"`
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
have one since Linux 6.x: see the README's "Auditing isolation"), and
the report says where proof ends.

--policy FILE checks YAML rules (docs/policy.md): exit 0 when every rule
was decided for every target and holds where it matches, 1 with one line
per violation on stderr, 2 for a bad file (every error at FILE:LINE:COL).
A rule that selects on a name, image or labels cannot be decided for a
container whose engine could not be asked: it is printed as undecided
and the run exits 4 (the engine's socket refused us) or 5 (the engine is
down or too slow; also when violations come with it), never 0. --junit FILE writes JUnit XML: one testcase per
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
					return policyErrors("", err)
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
			identityErrs := map[string]error{} // policy target -> why its identity is unknown
			for _, arg := range args {
				a, pt, ierr, err := auditOne(ctx, arg, ref, refInfo, engineTimeout)
				if err != nil {
					return err
				}
				if ierr != nil {
					identityErrs[pt.String()] = ierr
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
			var outcome error
			if report.Policy != nil {
				outcome = policyOutcome(cmd.ErrOrStderr(), report.Policy, identityErrs)
			}
			return errors.Join(outcome, refusedFacts(report.Targets))
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print a JSON object: {\"targets\": [{\"target\", \"reference\", \"facts\", \"members\"}], \"policy\"}")
	c.Flags().StringVar(&against, "against", "", "audit against this PID's namespaces instead of the host's")
	c.Flags().StringVar(&policyFile, "policy", "", "check the facts against the rules of this YAML `FILE` (exit 1 on a violation)")
	c.Flags().StringVar(&junitFile, "junit", "", "with --policy, write a JUnit XML report to `FILE`")
	c.Flags().DurationVar(&engineTimeout, "engine-timeout", 2*time.Second, "how long to wait for a container engine's answer")
	return c
}

// policyError is a policy file's errors on one line, for a log line or
// /healthz: the first and how many more. policyErrors gives them all.
func policyError(err error) string {
	errs := policyErrList(err)
	if len(errs) == 1 {
		return "bad policy: " + errs[0].Error()
	}
	return fmt.Sprintf("bad policy: %v (and %d more errors)", errs[0], len(errs)-1)
}

// policyErrors is a policy file's errors as bad input, one line each at
// FILE:LINE:COL, prefixed with what was loading it.
func policyErrors(prefix string, err error) error {
	if procinfo.IsDenied(err) {
		return privilegeErrorf("%s%v (run as a user who may read it)", prefix, err)
	}
	var out []error
	for _, e := range policyErrList(err) {
		out = append(out, usageErrorf("%sbad policy: %v", prefix, e))
	}
	return errors.Join(out...)
}

// policyErrList unpacks policy.Parse's errors.Join.
func policyErrList(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// refusedFacts is exit 4 for facts the kernel refused to read: the
// report shows the rest, but an audit that could not see is not clean.
func refusedFacts(targets []auditJSON) error {
	var errs []error
	for _, a := range targets {
		if a.Facts != nil && a.Facts.Refused > 0 {
			errs = append(errs, privilegeErrorf("audit %s: %d fact(s) could not be read: %s (they are marked unknown above)",
				a.Target.Arg, a.Facts.Refused, procinfo.DeniedHint(fmt.Sprintf("reading process %d", a.Target.PID))))
		}
	}
	return errors.Join(errs...)
}

// policyOutcome prints one line per violation and per rule that could
// not be decided, and returns the run's error: nil when every rule was
// decided and holds; an assertion (exit 1) for violations alone; for an
// undecided rule, the class of why (a socket that refused us: exit 4;
// an engine down or too slow: 5), and 5 when violations come with it.
func policyOutcome(stderr io.Writer, p *policyReport, identityErrs map[string]error) error {
	for _, v := range p.Violations {
		fmt.Fprintln(stderr, "nsinspect: violation: "+v.String())
	}
	kind := error(nil)
	for _, u := range p.Undecided {
		fmt.Fprintf(stderr, "nsinspect: undecided: rule %s for %s: %s\n", u.Rule, u.Target, u.Why)
		k := inspect.ErrUndecided
		if inspect.ClassOf(identityErrs[u.Target]) == inspect.Privilege {
			k = inspect.ErrPrivilege
		}
		if kind == nil || k == inspect.ErrUndecided {
			kind = k
		}
	}
	switch {
	case kind != nil && len(p.Violations) > 0:
		return inspect.Wrap(inspect.ErrUndecided, nil, "")
	case kind != nil:
		return inspect.Wrap(kind, nil, "")
	case len(p.Violations) > 0:
		return errAssertion
	}
	return nil
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

// auditOne resolves one TARGET (inspect.Resolve), pins it and reads its
// facts. A container recognised from a PID whose engine could not say
// who it is keeps its id, and pt.Unidentified says why: a policy rule
// that selects on its name, image or labels is then undecided, never
// "matched nothing". identityErr is that failure, for the exit code.
func auditOne(ctx context.Context, arg string, ref *procinfo.Proc, refInfo auditRefJSON, timeout time.Duration) (out auditJSON, pt policy.Target, identityErr error, err error) {
	out = auditJSON{Reference: refInfo}
	pt = policy.Target{Engine: "host"}
	r, err := inspect.Resolve(ctx, arg, timeout)
	if err != nil {
		return out, pt, nil, fmt.Errorf("audit %w", err)
	}
	p := r.Proc
	defer r.Close()
	if c := r.Container; c != nil {
		out.Target.Container = &procinfo.Container{Engine: c.Engine, ID: c.ID, Name: c.Name}
		out.Target.Image, out.Target.Labels, out.Target.Declared = c.Image, c.Labels, &c.Declared
		pt = policy.Target{Engine: c.Engine, ID: c.ID, Name: c.Name, Image: c.Image, Labels: c.Labels}
	} else {
		c, ierr := engine.Recognize(ctx, p, timeout)
		if c != nil {
			if c.Note != "" {
				out.Notes = append(out.Notes, c.Note)
			}
			out.Target.Container = &procinfo.Container{Engine: c.Engine, ID: c.ID, Name: c.Name}
			out.Target.Image, out.Target.Labels = c.Image, c.Labels
			pt = policy.Target{Engine: c.Engine, ID: c.ID, Name: c.Name, Image: c.Image, Labels: c.Labels}
			if ierr != nil {
				pt.Unidentified, identityErr = oneLine(ierr.Error()), ierr
			}
		}
	}
	out.Target.Arg, out.Target.PID, out.Target.Comm = arg, p.PID, commOf(p)
	pt.PID = p.PID
	facts, err := posture.Read(p, ref)
	if err != nil {
		return out, pt, nil, fmt.Errorf("audit %s: %w", arg, inspect.ReadError(p, "isolation facts", err))
	}
	out.Facts = facts
	if out.Target.Container != nil {
		out.Members = containerMembers(p, out.Target.Container.ID, ref, facts)
	}
	return out, pt, identityErr, nil
}
