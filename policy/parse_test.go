package policy

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	nsnames "github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/posture"
)

func TestParseGood(t *testing.T) {
	tests := []struct {
		file  string
		rules map[string][]string // rule name: its facts, in order
	}{
		{"minimal.yaml", map[string][]string{"no-new-privs": {"no_new_privs"}}},
		{"anchors.yaml", map[string][]string{"web": {"capabilities"}, "db": {"capabilities"}}},
		{"full.yaml", map[string][]string{
			"containers-are-isolated": {"namespaces", "capabilities", "no_new_privs", "seccomp", "lsm",
				"user_mapping", "masked_paths", "readonly_paths", "sensitive_mounts", "devices", "cgroup"},
			"everything-else": {"seccomp", "sensitive_mounts", "capabilities", "cgroup", "uid_map",
				"gid_map", "lsm", "namespaces", "devices"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", "good", tt.file)
			p, err := Load(path)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if tt.file == "full.yaml" && p.Rules()[0].Description() != "Containers do not share the host's namespaces." {
				t.Errorf("Description() = %q", p.Rules()[0].Description())
			}
			if p.File() != path {
				t.Errorf("File() = %q, want %q", p.File(), path)
			}
			rules := p.Rules()
			if len(rules) != len(tt.rules) {
				t.Fatalf("%d rules, want %d", len(rules), len(tt.rules))
			}
			for _, r := range rules {
				if want, ok := tt.rules[r.Name()]; !ok || !slices.Equal(r.Facts(), want) {
					t.Errorf("rule %q facts %v, want %v", r.Name(), r.Facts(), want)
				}
			}
		})
	}
}

// TestParseBad checks every error of each bad file, with its exact
// file:line:col, in file order.
func TestParseBad(t *testing.T) {
	tests := []struct {
		file string
		want []string // LINE:COL: MSG (prefixed with the file name here)
	}{
		{"unknown-top-key.yaml", []string{`5:1: unknown key "rule" in the top level of the policy; known keys: version, rules`}},
		{"unknown-match-key.yaml", []string{`5:7: unknown key "engin" in match of rule "a"; known keys: engine, name, image, labels, pod_namespace`}},
		{"unknown-expect-key.yaml", []string{`6:9: unknown key "separte" in expect.namespaces of rule "a"; known keys: separate, shared, accept_unproven`}},
		{"unknown-fact.yaml", []string{`5:7: unknown fact "seccmp" in rule "x"; known facts: namespaces, capabilities, no_new_privs, seccomp, lsm, user_mapping, uid_map, gid_map, masked_paths, readonly_paths, sensitive_mounts, devices, cgroup`}},
		{"wrong-type.yaml", []string{
			`5:21: expect.no_new_privs of rule "a": expected true or false, got the string "yes"`,
			`6:30: expect.namespaces.separate of rule "a": expected a list of strings, got the string "net"`,
		}},
		{"bad-glob.yaml", []string{`4:19: match.name of rule "a": bad glob "web-[": syntax error in pattern (path.Match syntax: * ? [a-z] \)`}},
		{"duplicate-names.yaml", []string{`7:11: duplicate rule name "a" (first at line 3, column 11)`}},
		{"bad-version.yaml", []string{`1:10: unsupported version 2; this nsinspect reads version 1`}},
		{"missing-version.yaml", []string{`1:1: missing version; this format is version 1 (add version: 1)`}},
		{"version-string.yaml", []string{`1:10: version: expected the integer 1, got the string "1"`}},
		{"tabs.yaml", []string{`5:1: tab in indentation: YAML indents with spaces only (found character that cannot start any token)`}},
		{"invalid-yaml.yaml", []string{`3:3: invalid YAML: did not find expected ',' or '}' in the block or flow that starts here`}},
		{"empty-rules.yaml", []string{`2:8: rules: empty; a policy needs at least one rule`}},
		{"empty.yaml", []string{`1:1: empty policy; a policy starts with version: 1 and a list of rules`}},
		{"two-documents.yaml", []string{`2:1: a second YAML document; a policy is one document`}},
		{"unknown-namespace.yaml", []string{
			`5:36: expect.namespaces.separate of rule "a": unknown namespace link "network"; known: cgroup, ipc, mnt, net, pid, pid_for_children, time, time_for_children, user, uts`,
			`5:55: expect.namespaces of rule "a": "net" is both separate and shared`,
		}},
		{"unknown-capability.yaml", []string{
			`5:31: expect.capabilities.absent of rule "a": unknown capability "CAP_SYS_ADMN" (capabilities(7) names, with or without CAP_, or CAP_<bit>)`,
			`5:64: expect.capabilities.sets of rule "a": unknown capability set "efective"; known: effective, permitted, inheritable, bounding, ambient`,
		}},
		{"unknown-mount-kind.yaml", []string{`5:34: expect.sensitive_mounts.allow of rule "a": unknown sensitive mount kind "docker-sock"; known: docker-socket, podman-socket, containerd-socket, host-root, host-proc, host-sys, cgroupfs-rw, host-run, host-dev`}},
		{"unknown-engine.yaml", []string{`4:21: match.engine of rule "a": "dokcer" matches no engine; engines: docker, podman, runc, containerd, host`}},
		{"no-expect.yaml", []string{
			`3:5: rule "a" has no expect and no forbid; a rule expects at least one fact or forbids at least one event`,
			`4:5: rule #2 has no name`,
			`4:13: expect of rule #2 is empty; a rule expects at least one fact`,
			`7:5: duplicate key "expect" in rule "c" (first at line 6, column 5)`,
		}},
		{"bad-forbid.yaml", []string{
			`4:13: forbid of rule "a": expected a list of event patterns ({event: setns, into: host}), got a mapping`,
			`6:13: forbid of rule "b" is empty; a rule forbids at least one event pattern`,
			`9:17: event of forbid[0] of rule "c": unknown event "clone"; events: fork, unshare, setns`,
			`10:34: types of forbid[1] of rule "c": unknown namespace type "users"; known: ` + strings.Join(nsnames.TypeNames(), ", "),
			`11:29: forbid[2] of rule "c": into: host is a setns's; a fork makes namespaces, it enters none`,
			`12:30: into of forbid[3] of rule "c": "container"; the one value is host (one of the host's namespaces, kthreadd's)`,
			`13:9: forbid[4] of rule "c" has no event; event is one of fork, unshare, setns`,
			`14:32: result of forbid[5] of rule "c": unknown result "maybe"; results: ok, failed, any`,
			`14:39: unknown key "flags" in forbid[5] of rule "c"; known keys: event, types, into, result`,
			`15:31: types of forbid[6] of rule "c" is empty; leave types out to mean any type`,
			`18:13: rule "d" has both expect and forbid; a rule expects facts of targets (audit) or forbids events (watch --policy), so make it two rules`,
		}},
		{"checks-nothing.yaml", []string{
			`5:12: expect.lsm of rule "a" checks nothing; give confined or label`,
			`6:21: expect.capabilities of rule "a" checks nothing; list capabilities under absent or present`,
			`7:15: expect.cgroup of rule "a" checks nothing; give pids_max or memory_max`,
		}},
		{"many.yaml", []string{
			`1:10: unsupported version 3; this nsinspect reads version 1`,
			`4:43: match.labels["app"] of rule "a": bad glob "[": syntax error in pattern (path.Match syntax: * ? [a-z] \)`,
			`6:16: expect.seccomp of rule "a": unknown seccomp mode "filtre"; known: disabled, strict, filter`,
			`7:25: expect.devices.allow of rule "a": bad glob "/dev/[": syntax error in pattern (path.Match syntax: * ? [a-z] \)`,
			`8:26: expect.cgroup.pids_max of rule "a": expected limited or a positive integer, got the string "unlimited"`,
			`9:21: expect.user_mapping of rule "a": unknown value "host-root"; known: not-host-root`,
			`10:22: expect.masked_paths of rule "a": "proc/kcore" is not a clean absolute path`,
		}},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", "bad", tt.file)
			p, err := Load(path)
			if err == nil {
				t.Fatalf("Load succeeded with %d rules", len(p.Rules()))
			}
			want := make([]string, len(tt.want))
			for i, w := range tt.want {
				want[i] = path + ":" + w
			}
			checkErrors(t, err, path, want)
		})
	}
	bad, _ := filepath.Glob("testdata/bad/*.yaml")
	for _, f := range bad {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s has no case in TestParseBad", f)
		}
	}
}

// checkErrors checks that err is a *Error or a join of them, in the
// order and with the text of want, each for file.
func checkErrors(t *testing.T, err error, file string, want []string) {
	t.Helper()
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	var got []string
	for _, e := range errs {
		var pe *Error
		if !errors.As(e, &pe) {
			t.Fatalf("error %v (%T) is not a *policy.Error", e, e)
		}
		if pe.File != file || pe.Line < 1 || pe.Col < 1 {
			t.Errorf("error %q: File %q Line %d Col %d", pe, pe.File, pe.Line, pe.Col)
		}
		got = append(got, pe.Error())
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err.Error() != strings.Join(want, "\n") {
		t.Errorf("Error() = %q, want one line per error", err.Error())
	}
}

// TestParseText covers faults in the bytes themselves, and details of
// the format that fixture files would hide.
func TestParseText(t *testing.T) {
	const ok = "version: 1\nrules:\n  - name: a\n    expect: {no_new_privs: true}\n"
	tests := []struct {
		name string
		data string
		want []string // empty: must parse
	}{
		{"ok", ok, nil},
		{"invalid UTF-8", "version: 1\nrules:\n  - name: \"a\xff\"\n", []string{"p.yaml:3:13: invalid UTF-8 byte 0xff; a policy is UTF-8 text"}},
		{"control character", "version: 1\nrules:\n  - name: a\x01\n", []string{"p.yaml:3:12: control character U+0001 is not allowed in YAML"}},
		{"tab before a key", "version: 1\nrules:\n  - name: a\n  \texpect: {no_new_privs: true}\n", []string{"p.yaml:4:3: tab in indentation: YAML indents with spaces only (found a tab character that violates indentation)"}},
		{"tab after a colon is fine", "version: 1\nrules:\n  - name:\ta\n    expect: {no_new_privs:\ttrue}\n", nil},
		{"version 0x1", "version: 0x1\nrules:\n  - name: a\n    expect: {no_new_privs: true}\n", nil},
		{"version 1.0", "version: 1.0\nrules:\n  - name: a\n    expect: {no_new_privs: true}\n", []string{"p.yaml:1:10: version: expected the integer 1, got the number 1.0"}},
		{"top level a list", "- a\n", []string{"p.yaml:1:1: a policy is a mapping with version and rules, got a list"}},
		{"rules a mapping", "version: 1\nrules: {a: 1}\n", []string{"p.yaml:2:8: rules: expected a list of rules, got a mapping"}},
		{"rule a string", "version: 1\nrules: [a]\n", []string{"p.yaml:2:9: rule #1: expected a mapping with name, match and expect, got the string \"a\""}},
		{"missing rules", "version: 1\n", []string{"p.yaml:1:1: missing rules; a policy needs at least one rule"}},
		{"blank name", "version: 1\nrules:\n  - name: \" \"\n    expect: {no_new_privs: true}\n", []string{`p.yaml:3:11: rule #1: name must be one non-blank line`}},
		{"merge key", "version: 1\nbase: &b {no_new_privs: true}\nrules:\n  - name: a\n    expect: {<<: *b}\n", []string{
			`p.yaml:2:1: unknown key "base" in the top level of the policy; known keys: version, rules`,
			`p.yaml:5:14: expect of rule "a": keys must be plain strings (merge keys << are not supported), got a value tagged !!merge`,
		}},
		{"unquoted label values", "version: 1\nrules:\n  - name: a\n    match: {labels: {port: 8080, tls: true}}\n    expect: {no_new_privs: true}\n", nil},
		{"label value a list", "version: 1\nrules:\n  - name: a\n    match: {labels: {app: [web]}}\n    expect: {no_new_privs: true}\n", []string{`p.yaml:4:27: match.labels["app"] of rule "a": expected a string, got a list`}},
		{"empty pattern", "version: 1\nrules:\n  - name: a\n    match: {image: \"\"}\n    expect: {no_new_privs: true}\n", []string{`p.yaml:4:20: match.image of rule "a": empty pattern; leave the key out to match anything`}},
		{"engine glob", "version: 1\nrules:\n  - name: a\n    match: {engine: \"[dp]o*\"}\n    expect: {no_new_privs: true}\n", nil},
		{"capability forms", "version: 1\nrules:\n  - name: a\n    expect:\n      capabilities: {absent: [sys_admin, Cap_Net_Raw, CAP_63], present: [CAP_21]}\n", []string{
			`p.yaml:5:74: expect.capabilities of rule "a": CAP_SYS_ADMIN is both absent and present`,
		}},
		{"capability out of range", "version: 1\nrules:\n  - name: a\n    expect:\n      capabilities: {absent: [CAP_64, CAP_07, ALL]}\n", []string{
			`p.yaml:5:31: expect.capabilities.absent of rule "a": unknown capability "CAP_64" (capabilities(7) names, with or without CAP_, or CAP_<bit>)`,
			`p.yaml:5:39: expect.capabilities.absent of rule "a": unknown capability "CAP_07" (capabilities(7) names, with or without CAP_, or CAP_<bit>)`,
			`p.yaml:5:47: expect.capabilities.absent of rule "a": ALL stands alone`,
		}},
		{"memory sizes", "version: 1\nrules:\n  - name: a\n    expect:\n      cgroup: {memory_max: 512Mi, pids_max: \"10\"}\n", []string{
			`p.yaml:5:45: expect.cgroup.pids_max of rule "a": expected limited or a positive integer, got the string "10"`,
		}},
		{"bad size", "version: 1\nrules:\n  - name: a\n    expect:\n      cgroup: {memory_max: 12X}\n", []string{
			`p.yaml:5:28: expect.cgroup.memory_max of rule "a": expected limited or a size in bytes (512M, 2G), got the string "12X"`,
		}},
		{"sensitive mounts string", "version: 1\nrules:\n  - name: a\n    expect: {sensitive_mounts: some}\n", []string{
			`p.yaml:4:32: expect.sensitive_mounts of rule "a": expected none or {allow: [kinds]}, got "some"`,
		}},
		{"seccomp empty", "version: 1\nrules:\n  - name: a\n    expect: {seccomp: []}\n", []string{
			`p.yaml:4:23: expect.seccomp of rule "a": expected a mode or a list of modes (disabled, strict, filter)`,
		}},
		{"other types", "version: 1\nrules:\n  - name: 5\n    expect: {no_new_privs: 1.5, seccomp: ~, lsm: {confined: !foo x}}\n", []string{
			`p.yaml:3:11: rule #1: name: expected a string, got the integer 5`,
			`p.yaml:4:28: expect.no_new_privs of rule #1: expected true or false, got the number 1.5`,
			`p.yaml:4:42: expect.seccomp of rule #1: expected a mode or a list of modes (disabled, strict, filter)`,
			`p.yaml:4:61: expect.lsm.confined of rule #1: expected true or false, got a value tagged !foo`,
		}},
		{"listed twice", "version: 1\nrules:\n  - name: a\n    expect: {masked_paths: [/a, /a]}\n", []string{
			`p.yaml:4:33: expect.masked_paths of rule "a": "/a" is listed twice`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("p.yaml", []byte(tt.data))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if len(p.Rules()) == 0 {
					t.Fatal("no rules")
				}
				return
			}
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			checkErrors(t, err, "p.yaml", tt.want)
		})
	}
}

func TestTooManyErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\nrules:\n")
	for range maxErrors + 10 {
		b.WriteString("  - {name: a, expect: {no_new_privs: true}}\n")
	}
	_, err := Parse("p.yaml", []byte(b.String()))
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != maxErrors || !strings.Contains(lines[maxErrors-1], "too many errors (59)") {
		t.Errorf("%d lines, last %q", len(lines), lines[len(lines)-1])
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "none.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file: %v, want os.ErrNotExist", err)
	}
}

// TestFactNames keeps the format in step with posture: every fact posture
// has is a key of expect, and every key of expect has a parser.
func TestFactNames(t *testing.T) {
	for _, name := range posture.FactNames {
		if !slices.Contains(factNames, name) {
			t.Errorf("posture fact %q is not a fact of the policy format", name)
		}
	}
	for _, name := range factNames {
		if factParsers[name] == nil {
			t.Errorf("fact %q has no parser", name)
		}
	}
	if len(factParsers) != len(factNames) {
		t.Errorf("%d parsers for %d facts", len(factParsers), len(factNames))
	}
}

func TestCapName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"CAP_SYS_ADMIN", "CAP_SYS_ADMIN"}, {"sys_admin", "CAP_SYS_ADMIN"}, {"cap_bpf", "CAP_BPF"},
		{"CAP_21", "CAP_SYS_ADMIN"}, {"CAP_0", "CAP_CHOWN"}, {"CAP_40", "CAP_CHECKPOINT_RESTORE"},
		{"CAP_41", "CAP_41"}, {"CAP_63", "CAP_63"},
		{"CAP_64", ""}, {"CAP_", ""}, {"CAP_+1", ""}, {"CAP_01", ""}, {"SYS_ADMN", ""}, {"", ""},
	}
	for _, tt := range tests {
		got, ok := capName(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("capName(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("version: 1\nrules: [&r {name: a, expect: {seccomp: filter}}, *r]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if (p == nil) == (err == nil) {
			t.Fatalf("Parse = %v, %v: want exactly one", p, err)
		}
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Line < 1 || pe.Col < 1 {
				t.Fatalf("error %q is not a positioned *policy.Error", err)
			}
			return
		}
		// A policy that parses must evaluate without panicking, on
		// nothing and on facts that could not be read.
		p.Evaluate(Target{Engine: "docker"}, nil)
		p.Evaluate(Target{Engine: "host"}, &posture.Facts{})
	})
}
