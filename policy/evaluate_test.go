package policy

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/nsinspect/nsinspect/posture"
)

func str(s string) *string { return &s }

func nsFact(name string, shared bool) posture.Namespace {
	ino := map[bool]string{false: "4026532285", true: "4026531833"}[shared]
	return posture.Namespace{
		Target: name + ":[" + ino + "]", Reference: name + ":[4026531833]", Shared: shared, Proven: true,
		Evidence: []posture.Evidence{{Call: "readlink", File: "/proc/4242/ns/" + name}},
	}
}

// goodFacts is a well isolated container: every case below passes on it.
func goodFacts() *posture.Facts {
	f := &posture.Facts{Namespaces: map[string]posture.Namespace{}}
	for _, n := range []string{"net", "pid", "ipc", "uts", "mnt", "user", "cgroup"} {
		f.Namespaces[n] = nsFact(n, false)
	}
	f.Namespaces["time"] = nsFact("time", true)
	caps := []string{"CAP_CHOWN", "CAP_NET_BIND_SERVICE"}
	f.Capabilities = posture.Capabilities{
		Effective: caps, Permitted: caps, Bounding: caps,
		Evidence: []posture.Evidence{
			{File: "/proc/4242/status", Line: 40, Text: "CapPrm:\t0000000000000401"},
			{File: "/proc/4242/status", Line: 41, Text: "CapEff:\t0000000000000401"},
			{File: "/proc/4242/status", Line: 42, Text: "CapBnd:\t0000000000000401"},
		},
	}
	f.NoNewPrivs = posture.Flag{Value: true, Evidence: []posture.Evidence{{File: "/proc/4242/status", Line: 44, Text: "NoNewPrivs:\t1"}}}
	f.Seccomp = posture.Seccomp{Mode: "filter", Filters: 1, Evidence: []posture.Evidence{{File: "/proc/4242/status", Line: 45, Text: "Seccomp:\t2"}}}
	f.LSM = posture.LSM{Label: str("docker-default (enforce)"), Evidence: []posture.Evidence{{File: "/proc/4242/attr/current", Text: "docker-default (enforce)"}}}
	idmap := posture.IDMap{Ranges: []posture.IDRange{{Inside: 0, Outside: 100000, Count: 65536}}}
	f.UIDMap, f.GIDMap = idmap, idmap
	f.UIDMap.Evidence = []posture.Evidence{{File: "/proc/4242/uid_map", Line: 1, Text: "0 100000 65536"}}
	f.MaskedPaths = posture.PathList{Paths: []posture.Path{{Path: "/proc/kcore", How: "bind mount of /dev/null"}, {Path: "/proc/sysrq-trigger/", How: "bind mount of /dev/null"}}}
	f.ReadonlyPaths = posture.PathList{Paths: []posture.Path{{Path: "/proc/sys", How: "mount option ro"}, {Path: "/sys", How: "mount option ro"}}}
	f.Devices = posture.Devices{Nodes: []posture.Device{
		{Path: "/dev/null", Type: "c", Major: 1, Minor: 3},
		{Path: "/dev/zero", Type: "c", Major: 1, Minor: 5},
		{Path: "/dev/pts/0", Type: "c", Major: 136, Minor: 0},
	}}
	f.Cgroup = posture.Cgroup{Version: 2, Path: "/system.slice/docker-3f2a.scope", PidsMax: "4096", MemoryMax: "1073741824",
		Evidence: []posture.Evidence{{File: "/sys/fs/cgroup/system.slice/docker-3f2a.scope/pids.max", Text: "4096"}, {File: "/sys/fs/cgroup/system.slice/docker-3f2a.scope/memory.max", Text: "1073741824"}}}
	return f
}

var web = Target{Engine: "docker", ID: "3f2a1b0c9d8e7f6a", Name: "web-1", Image: "nginx:1.27", PID: 4242,
	Labels: map[string]string{"app": "web", "io.kubernetes.pod.namespace": "prod-eu"}}

// TestEvaluate runs each expectation on goodFacts, where it must pass,
// and on facts changed to break it, where it must give exactly want
// (Violation.String without the rule). Every kind of expectation, and a
// fact that could not be read for each, is here.
func TestEvaluate(t *testing.T) {
	tests := []struct {
		name   string
		expect string
		break_ func(f *posture.Facts)
		want   []string
	}{
		{"namespace shared", "namespaces: {separate: [net, pid]}",
			func(f *posture.Facts) { f.Namespaces["net"] = nsFact("net", true) },
			[]string{"namespaces.net: expected separate, is shared with the reference (net:[4026531833]); evidence: readlink /proc/4242/ns/net"}},
		{"namespace separate", "namespaces: {shared: [time]}",
			func(f *posture.Facts) { f.Namespaces["time"] = nsFact("time", false) },
			[]string{"namespaces.time: expected shared, is separate from the reference (time:[4026532285], reference time:[4026531833]); evidence: readlink /proc/4242/ns/time"}},
		{"namespace missing", "namespaces: {separate: [time_for_children]}", nil, nil},
		{"namespace not reported", "namespaces: {separate: [net]}",
			func(f *posture.Facts) { delete(f.Namespaces, "net") },
			[]string{"namespaces.net: expected separate, was not reported (does this kernel have /proc/PID/ns/net?)"}},
		{"namespace unread", "namespaces: {separate: [net]}",
			func(f *posture.Facts) { f.Namespaces["net"] = posture.Namespace{Err: "pid 4242 exited"} },
			[]string{"namespaces.net: expected separate, could not be read: pid 4242 exited"}},
		{"namespace unproven", "namespaces: {separate: [net]}",
			func(f *posture.Facts) {
				f.Namespaces["net"] = posture.Namespace{Target: "net:[4026532285]", Why: "no reference process"}
			},
			[]string{"namespaces.net: expected separate, is not proven separate (net:[4026532285]); not proven: no reference process"}},
		{"namespace unproven shared guess", "namespaces: {separate: [net], accept_unproven: true}",
			func(f *posture.Facts) {
				f.Namespaces["net"] = posture.Namespace{Target: "net:[4026531840]", Shared: true, Why: "initial namespace inode"}
			},
			[]string{"namespaces.net: expected separate, is probably shared with the reference (net:[4026531840]); not proven: initial namespace inode"}},
		{"capability present", "capabilities: {absent: [SYS_ADMIN, net_admin]}",
			func(f *posture.Facts) { f.Capabilities.Effective = append(f.Capabilities.Effective, "CAP_SYS_ADMIN") },
			[]string{`capabilities.effective: expected CAP_SYS_ADMIN absent, is present; evidence: /proc/4242/status:41 "CapEff:\t0000000000000401"`}},
		{"capability by bit", "capabilities: {absent: [CAP_SYS_ADMIN, CAP_45], sets: [permitted]}",
			func(f *posture.Facts) { f.Capabilities.Permitted = []string{"CAP_21", "CAP_45"} },
			[]string{
				`capabilities.permitted: expected CAP_SYS_ADMIN absent, is present; evidence: /proc/4242/status:40 "CapPrm:\t0000000000000401"`,
				`capabilities.permitted: expected CAP_45 absent, is present; evidence: /proc/4242/status:40 "CapPrm:\t0000000000000401"`,
			}},
		{"capability absent", "capabilities: {present: [CAP_CHOWN], sets: [bounding]}",
			func(f *posture.Facts) { f.Capabilities.Bounding = nil },
			[]string{`capabilities.bounding: expected CAP_CHOWN present, is absent; evidence: /proc/4242/status:42 "CapBnd:\t0000000000000401"`}},
		{"capabilities ALL", "capabilities: {absent: [ALL], sets: [ambient, inheritable]}",
			func(f *posture.Facts) { f.Capabilities.Ambient = []string{"CAP_NET_RAW", "CAP_CHOWN"} },
			[]string{`capabilities.ambient: expected empty, has CAP_NET_RAW, CAP_CHOWN; evidence: /proc/4242/status:40 "CapPrm:\t0000000000000401"; /proc/4242/status:41 "CapEff:\t0000000000000401"; /proc/4242/status:42 "CapBnd:\t0000000000000401"`}},
		{"capabilities unread", "capabilities: {absent: [SYS_ADMIN]}",
			func(f *posture.Facts) { f.Capabilities = posture.Capabilities{Err: "permission denied"} },
			[]string{"capabilities: expected without CAP_SYS_ADMIN in effective, bounding, could not be read: permission denied"}},
		{"no_new_privs", "no_new_privs: true",
			func(f *posture.Facts) { f.NoNewPrivs.Value = false },
			[]string{`no_new_privs: expected true, is false; evidence: /proc/4242/status:44 "NoNewPrivs:\t1"`}},
		{"no_new_privs unread", "no_new_privs: true",
			func(f *posture.Facts) { f.NoNewPrivs = posture.Flag{Value: true, Err: "no NoNewPrivs line"} },
			[]string{"no_new_privs: expected true, could not be read: no NoNewPrivs line"}},
		{"seccomp", "seccomp: filter",
			func(f *posture.Facts) { f.Seccomp = posture.Seccomp{Mode: "disabled"} },
			[]string{"seccomp: expected filter, is disabled"}},
		{"seccomp list", "seccomp: [strict, filter]",
			func(f *posture.Facts) { f.Seccomp = posture.Seccomp{} },
			[]string{"seccomp: expected strict or filter, was not reported"}},
		{"seccomp unread", "seccomp: [filter]",
			func(f *posture.Facts) { f.Seccomp.Err = "no Seccomp line" },
			[]string{`seccomp: expected filter, could not be read: no Seccomp line; evidence: /proc/4242/status:45 "Seccomp:\t2"`}},
		{"lsm unconfined", "lsm: {confined: true}",
			func(f *posture.Facts) { f.LSM = posture.LSM{Label: str("unconfined"), AppArmor: str("unconfined")} },
			[]string{`lsm: expected confined, is unconfined ("unconfined")`}},
		{"lsm complain", "lsm: {confined: true}",
			func(f *posture.Facts) { f.LSM = posture.LSM{Label: str("p (complain)")} },
			[]string{`lsm: expected confined, is in AppArmor complain mode, which only logs ("p (complain)")`}},
		{"lsm selinux", "lsm: {confined: true}",
			func(f *posture.Facts) { f.LSM = posture.LSM{Label: str("system_u:system_r:spc_t:s0")} },
			[]string{`lsm: expected confined, is in the unconfined SELinux domain spc_t ("system_u:system_r:spc_t:s0")`}},
		{"lsm none", "lsm: {confined: true}",
			func(f *posture.Facts) { f.LSM = posture.LSM{Reason: "attr/current: invalid argument"} },
			[]string{"lsm: expected confined, has no LSM label (attr/current: invalid argument)"}},
		{"lsm label", `lsm: {label: "docker-default*"}`,
			func(f *posture.Facts) { f.LSM = posture.LSM{Label: str("system_u:system_r:container_t:s0")} },
			[]string{`lsm: expected label "docker-default*", is labelled "system_u:system_r:container_t:s0"`}},
		{"user_mapping host root", "user_mapping: not-host-root",
			func(f *posture.Facts) {
				f.UIDMap = posture.IDMap{Ranges: []posture.IDRange{{Inside: 0, Outside: 0, Count: 1}, {Inside: 1, Outside: 100000, Count: 65535}}, RootIsHostRoot: true}
				f.GIDMap = posture.IDMap{Ranges: []posture.IDRange{{Inside: 0, Outside: 0, Count: 4294967295}}, Identity: true, RootIsHostRoot: true}
			},
			[]string{
				"uid_map: expected not-host-root, maps uid 0 to host uid 0 (0 0 1; 1 100000 65535)",
				"gid_map: expected not-host-root, is the host's own map (0 0 4294967295): gid 0 is host gid 0, no user namespace",
			}},
		{"uid_map unread", "uid_map: not-host-root",
			func(f *posture.Facts) { f.UIDMap.Err = "permission denied" },
			[]string{`uid_map: expected not-host-root, could not be read: permission denied; evidence: /proc/4242/uid_map:1 "0 100000 65536"`}},
		{"gid_map only", "gid_map: not-host-root",
			func(f *posture.Facts) { f.GIDMap.RootIsHostRoot = true },
			[]string{"gid_map: expected not-host-root, maps gid 0 to host gid 0 (0 100000 65536)"}},
		{"masked_paths", "masked_paths: [/proc/kcore, /proc/sysrq-trigger]",
			func(f *posture.Facts) { f.MaskedPaths.Paths = f.MaskedPaths.Paths[1:] },
			[]string{"masked_paths: expected /proc/kcore masked, is not masked; evidence: /proc/4242/mountinfo"}},
		{"masked_paths unread", "masked_paths: [/proc/kcore]",
			func(f *posture.Facts) { f.MaskedPaths = posture.PathList{Err: "reading mountinfo: no such process"} },
			[]string{"masked_paths: expected /proc/kcore masked, could not be read: reading mountinfo: no such process; evidence: /proc/4242/mountinfo"}},
		{"readonly_paths", "readonly_paths: [/proc/sys, /sys]",
			func(f *posture.Facts) { f.ReadonlyPaths.Paths = nil },
			[]string{
				"readonly_paths: expected /proc/sys read-only, is not read-only; evidence: /proc/4242/mountinfo",
				"readonly_paths: expected /sys read-only, is not read-only; evidence: /proc/4242/mountinfo",
			}},
		{"sensitive_mounts none", "sensitive_mounts: none",
			func(f *posture.Facts) {
				f.SensitiveMounts.Mounts = []posture.SensitiveMount{{Path: "/var/run/docker.sock", Source: "/run/docker.sock", Kind: "docker-socket", ReadWrite: true,
					Evidence: posture.Evidence{File: "/proc/4242/mountinfo", Line: 12, Text: "612 600 0:25 /docker.sock /var/run/docker.sock rw"}}}
			},
			[]string{`sensitive_mounts: expected none, has docker-socket at /var/run/docker.sock (host /run/docker.sock, read-write); evidence: /proc/4242/mountinfo:12 "612 600 0:25 /docker.sock /var/run/docker.sock rw"`}},
		{"sensitive_mounts allow", "sensitive_mounts: {allow: [docker-socket], allow_read_only: [host-sys]}",
			func(f *posture.Facts) {
				f.SensitiveMounts.Mounts = []posture.SensitiveMount{
					{Path: "/var/run/docker.sock", Source: "/run/docker.sock", Kind: "docker-socket", ReadWrite: true},
					{Path: "/host/sys", Source: "/", Kind: "host-sys"},
					{Path: "/host/sys2", Source: "/", Kind: "host-sys", ReadWrite: true},
					{Path: "/host", Source: "/", Kind: "host-root"},
				}
			},
			[]string{
				"sensitive_mounts: expected only docker-socket; host-sys read-only, has host-sys at /host/sys2 (host /, read-write)",
				"sensitive_mounts: expected only docker-socket; host-sys read-only, has host-root at /host (host /, read-only)",
			}},
		{"sensitive_mounts unread", "sensitive_mounts: none",
			func(f *posture.Facts) { f.SensitiveMounts.Err = "permission denied" },
			[]string{"sensitive_mounts: expected none, could not be read: permission denied; evidence: /proc/4242/mountinfo"}},
		{"devices", `devices: {allow: ["/dev/null", "/dev/zero", "/dev/pts/*"]}`,
			func(f *posture.Facts) {
				f.Devices.Nodes = append(f.Devices.Nodes, posture.Device{Path: "/dev/mem", Type: "c", Major: 1, Minor: 1}, posture.Device{Path: "/dev/pts/a/b", Type: "c", Major: 136, Minor: 1})
			},
			[]string{
				"devices: expected only /dev/null, /dev/zero, /dev/pts/*, has c 1:1 /dev/mem",
				"devices: expected only /dev/null, /dev/zero, /dev/pts/*, has c 136:1 /dev/pts/a/b",
			}},
		{"devices none", "devices: none",
			nil, // goodFacts has devices, so this case's pass half is below
			nil},
		{"devices unread", `devices: {allow: ["/dev/*", "/dev/pts/*"]}`,
			func(f *posture.Facts) { f.Devices.Err = "open /proc/4242/root/dev: permission denied" },
			[]string{"devices: expected only /dev/*, /dev/pts/*, could not be read: open /proc/4242/root/dev: permission denied"}},
		{"cgroup limited", "cgroup: {pids_max: limited, memory_max: limited}",
			func(f *posture.Facts) { f.Cgroup.PidsMax, f.Cgroup.MemoryMax = "max", "" },
			[]string{
				`cgroup.pids_max: expected limited, is max (unlimited); evidence: /sys/fs/cgroup/system.slice/docker-3f2a.scope/pids.max "4096"`,
				`cgroup.memory_max: expected limited, is absent (no memory controller for cgroup /system.slice/docker-3f2a.scope); evidence: /sys/fs/cgroup/system.slice/docker-3f2a.scope/memory.max "1073741824"`,
			}},
		{"cgroup at most", "cgroup: {pids_max: 4096, memory_max: 1G}",
			func(f *posture.Facts) {
				f.Cgroup.PidsMax, f.Cgroup.MemoryMax, f.Cgroup.Evidence = "4097", "9223372036854771712", nil
			},
			[]string{
				"cgroup.pids_max: expected at most 4096, is 4097",
				"cgroup.memory_max: expected at most 1073741824, is 9223372036854771712, cgroup v1's no limit",
			}},
		{"cgroup garbage", "cgroup: {pids_max: limited}",
			func(f *posture.Facts) { f.Cgroup.PidsMax, f.Cgroup.Evidence = "lots", nil },
			[]string{`cgroup.pids_max: expected limited, is "lots", not a number`}},
		{"cgroup unread", "cgroup: {memory_max: limited}",
			func(f *posture.Facts) { f.Cgroup = posture.Cgroup{Err: "no cgroup line"} },
			[]string{"cgroup: expected memory_max limited, could not be read: no cgroup line"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, "version: 1\nrules:\n  - name: r\n    expect:\n      "+tt.expect+"\n")
			good := goodFacts()
			if tt.name == "namespace missing" {
				// time_for_children is not in goodFacts: absent is never a pass.
				checkViolations(t, p.Evaluate(web, good), []string{"namespaces.time_for_children: expected separate, was not reported (does this kernel have /proc/PID/ns/time_for_children?)"})
				return
			}
			if tt.name == "devices none" {
				checkViolations(t, p.Evaluate(web, good), []string{
					"devices: expected no device nodes, has c 1:3 /dev/null",
					"devices: expected no device nodes, has c 1:5 /dev/zero",
					"devices: expected no device nodes, has c 136:0 /dev/pts/0",
				})
				good.Devices.Nodes = nil
				checkViolations(t, p.Evaluate(web, good), nil)
				return
			}
			checkViolations(t, p.Evaluate(web, good), nil)
			bad := goodFacts()
			tt.break_(bad)
			checkViolations(t, p.Evaluate(web, bad), tt.want)
			// Nothing gathered at all is a violation too, never a pass.
			rs := p.Evaluate(web, nil)
			if len(rs[0].Violations) != 1 || !strings.Contains(rs[0].Violations[0].Actual, "could not be read: no facts") {
				t.Errorf("nil facts: %v", rs[0].Violations)
			}
		})
	}
}

func mustParse(t *testing.T, src string) *Policy {
	t.Helper()
	p, err := Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse:\n%s\n%v", src, err)
	}
	return p
}

func checkViolations(t *testing.T, results []Result, want []string) {
	t.Helper()
	if len(results) != 1 || !results[0].Matched {
		t.Fatalf("results %+v: want one matched", results)
	}
	var got []string
	for _, v := range results[0].Violations {
		if v.Rule != "r" {
			t.Errorf("violation %+v: Rule %q", v, v.Rule)
		}
		got = append(got, strings.TrimPrefix(v.String(), "rule r: "))
	}
	if !slices.Equal(got, want) {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if results[0].Passed() != (len(want) == 0) {
		t.Errorf("Passed() = %v with %d violations", results[0].Passed(), len(want))
	}
}

func TestViolationString(t *testing.T) {
	v := Violation{Rule: "containers-are-isolated", Fact: "namespaces.net", Expected: "separate",
		Actual:   "is shared with the reference (net:[4026531833])",
		Evidence: []posture.Evidence{{Call: "readlink", File: "/proc/4242/ns/net"}}}
	want := "rule containers-are-isolated: namespaces.net: expected separate, is shared with the reference (net:[4026531833]); evidence: readlink /proc/4242/ns/net"
	if v.String() != want {
		t.Errorf("String() =\n%s\nwant\n%s", v, want)
	}
	v = Violation{Rule: "r", Fact: "f", Expected: "e", Actual: "could not be read: a\r\nb\x01", Evidence: []posture.Evidence{{File: "/x\ny", Text: "t\n"}, {}}}
	if got := v.String(); strings.Contains(got, "\n") || got != `rule r: f: expected e, could not be read: a  b\x01; evidence: /x y "t\n"` {
		t.Errorf("String() = %q: want one line", got)
	}
}

func TestEvaluateOrderAndMatch(t *testing.T) {
	p := mustParse(t, `version: 1
rules:
  - name: podman-only
    match: {engine: podman}
    expect: {no_new_privs: true}
  - name: all
    expect: {seccomp: strict, no_new_privs: false}
`)
	rs := p.Evaluate(web, goodFacts())
	if len(rs) != 2 || rs[0].Rule != "podman-only" || rs[0].Matched || rs[0].Violations != nil || rs[1].Rule != "all" || !rs[1].Matched {
		t.Fatalf("results %+v", rs)
	}
	var facts []string
	for _, v := range rs[1].Violations {
		facts = append(facts, v.Fact)
	}
	if !slices.Equal(facts, []string{"seccomp", "no_new_privs"}) {
		t.Errorf("violations in order %v, want file order", facts)
	}
	if rs[1].Target.Name != "web-1" {
		t.Errorf("Target %+v", rs[1].Target)
	}
}

func ExamplePolicy_Evaluate() {
	p, err := Parse("audit.yaml", []byte(`version: 1
rules:
  - name: containers-are-isolated
    match: {engine: docker}
    expect:
      namespaces: {separate: [net, pid]}
      no_new_privs: true
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	facts := &posture.Facts{
		Namespaces: map[string]posture.Namespace{
			"net": {Target: "net:[4026531833]", Reference: "net:[4026531833]", Shared: true, Proven: true,
				Evidence: []posture.Evidence{{Call: "readlink", File: "/proc/4242/ns/net"}}},
			"pid": {Target: "pid:[4026532290]", Reference: "pid:[4026531836]", Proven: true},
		},
		NoNewPrivs: posture.Flag{Err: "pid 4242 exited"},
	}
	for _, r := range p.Evaluate(Target{Engine: "docker", Name: "web-1", PID: 4242}, facts) {
		for _, v := range r.Violations {
			fmt.Println(v)
		}
	}
	// Output:
	// rule containers-are-isolated: namespaces.net: expected separate, is shared with the reference (net:[4026531833]); evidence: readlink /proc/4242/ns/net
	// rule containers-are-isolated: no_new_privs: expected true, could not be read: pid 4242 exited
}
