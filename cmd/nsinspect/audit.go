package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/render"
)

func init() {
	register(&cobra.Command{
		Use:   "audit TARGET...",
		Short: "Audit a process or container's isolation: namespaces, capabilities, seccomp, LSM, user mapping, mounts, devices, cgroup",
	}, newAuditCmd)
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
have one since Linux 6.x: see docs/audit.md), and
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
			if junitFile != "" && policyFile == "" {
				return usageErrorf("--junit %s needs --policy FILE: the report's testcases are the policy's rules", junitFile)
			}
			pol, err := inspect.LoadPolicy(policyFile)
			if err != nil {
				return err
			}
			report, err := inspect.RunAudit(context.Background(), inspect.AuditRequest{Targets: args, Against: against,
				Policy: pol, PolicyFile: policyFile, EngineTimeout: engineTimeout})
			if err != nil {
				return err
			}
			if err := write(cmd.OutOrStdout(), asJSON, report, render.AuditReport); err != nil {
				return err
			}
			if junitFile != "" && report.Policy != nil {
				if err := render.JUnitFile(junitFile, report.Policy.Evaluated); err != nil {
					return err
				}
			}
			return report.Outcome()
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print a JSON object: {\"schema_version\", \"targets\": [{\"target\", \"reference\", \"facts\", \"members\"}], \"policy\"}")
	c.Flags().StringVar(&against, "against", "", "audit against the namespaces of `TASK` ("+inspect.TargetForms()+") instead of the host's")
	c.Flags().StringVar(&policyFile, "policy", "", "check the facts against the rules of this YAML `FILE` (exit 1 on a violation)")
	c.Flags().StringVar(&junitFile, "junit", "", "with --policy, write a JUnit XML report to `FILE`")
	c.Flags().DurationVar(&engineTimeout, "engine-timeout", 2*time.Second, "how long to wait for a container engine's answer")
	return c
}
