// Package policy is the audit policy format of `nsinspect audit TARGET
// --policy FILE`: YAML rules that select targets (containers, or plain
// processes) and expect isolation facts of them, evaluated against the
// facts package posture reads from the kernel (/proc/PID/ns, status,
// attr/current, uid_map, gid_map, mountinfo, the cgroup files; see
// proc(5), namespaces(7), capabilities(7), user_namespaces(7),
// seccomp(2), cgroups(7)); and rules that forbid events (clone, unshare
// and setns calls as `nsinspect watch` sees them), checked by CheckEvent.
// It is a library that prints nothing: audit, watch and the metrics
// server render its results.
//
// docs/policy.md is the user's reference, with a complete example.
//
// # Format (version 1)
//
//	version: 1                  # required, the integer 1
//	rules:                      # required, at least one
//	  - name: containers-are-isolated   # required, unique
//	    description: ...        # optional
//	    match: {...}            # optional; absent or {} matches every target
//	    expect: {...}           # at least one fact; or, not both:
//	    forbid: [{...}]         # at least one event pattern
//
// match keys, all of which must match (globs are path.Match: * ? [a-z] \,
// and * does not cross a /):
//
//	engine: docker              # docker, podman, runc, containerd or host; a glob must match one
//	name: "web-*"               # the container name
//	image: "nginx:*"            # the image reference, as the engine reports it
//	labels: {app: web}          # each label present, its value matching the glob
//	pod_namespace: "prod-*"     # the io.kubernetes.pod.namespace label
//
// expect keys are fact names (posture.FactNames, and user_mapping):
//
//	namespaces: {separate: [net, pid], shared: [time], accept_unproven: false}
//	capabilities: {absent: [CAP_SYS_ADMIN], present: [], sets: [effective, bounding]}
//	no_new_privs: true
//	seccomp: filter                   # or [filter, strict]; modes disabled, strict, filter
//	lsm: {confined: true, label: "docker-default*"}
//	user_mapping: not-host-root       # uid_map and gid_map; or uid_map: / gid_map: alone
//	masked_paths: [/proc/kcore]
//	readonly_paths: [/proc/sys, /sys]
//	sensitive_mounts: none            # or {allow: [docker-socket], allow_read_only: [host-sys]}
//	devices: {allow: ["/dev/null", "/dev/pts/*"]}   # or none
//	cgroup: {pids_max: limited, memory_max: 2G}     # limited, or at most a number
//
// forbid patterns (all keys given must match; any pattern of the rule):
//
//	event: setns                # fork, unshare or setns; required
//	types: [net, user]          # namespace types the call changed (a failed call: asked for)
//	into: host                  # setns only: into one of the host's namespaces
//	result: ok                  # ok (default), failed or any
//
// # Strictness
//
// A typo must not switch a check off, so Parse rejects unknown keys at
// every level, unknown facts, namespace link names, capability names,
// capability sets, seccomp modes, sensitive mount kinds and engines, bad
// or empty globs, wrong types (no_new_privs: "yes"), duplicate keys and
// rule names, expectations that check nothing, a missing or other
// version, an empty rule list, more than one YAML document, and merge
// keys (<<; anchors and aliases are fine). Every error is a *Error with
// the file, line and column of the node it is about; Parse collects them
// all (up to 50) and returns them joined by errors.Join, one per line,
// in file order. For YAML syntax errors the parser used
// (go.yaml.in/yaml/v3) names only a line: a tab in the indentation is
// placed exactly, anything else at the first character of the line.
//
// # Evaluation
//
// Evaluate gives one Result per rule, in file order; a rule whose match
// does not select the target has Matched false and no violations. Each
// expectation not met is a Violation carrying the posture evidence.
// Nothing uncertain passes: a fact that could not be read (its Err set)
// violates every expectation on it ("could not be read: ERR"), as does
// a namespace posture did not report or could not prove shared or
// separate (unless accept_unproven), a missing LSM label where one is
// expected, and a cgroup limit that is absent or not a number.
//
// WriteJUnit renders results as JUnit XML for CI reporters.
package policy
