package policy

import "testing"

func TestMatch(t *testing.T) {
	host := Target{Engine: "host", PID: 1}
	podman := Target{Engine: "podman", Name: "db", Image: "docker.io/library/postgres:16", Labels: map[string]string{"app": "db"}}
	tests := []struct {
		match  string
		target Target
		want   bool
	}{
		{"{}", host, true},
		{"null", web, true},
		{"{engine: docker}", web, true},
		{"{engine: docker}", host, false},
		{"{engine: \"*\"}", host, true},
		{"{engine: \"[dp]o*\"}", podman, true},
		{"{engine: \"[dp]o*\"}", host, false},
		{"{name: \"web-*\"}", web, true},
		{"{name: \"web-?\"}", web, true},
		{"{name: \"web-??\"}", web, false},
		{"{name: \"*\"}", host, true}, // a glob may match the empty name
		{"{name: \"db\"}", web, false},
		{"{image: \"nginx:*\"}", web, true},
		{"{image: \"nginx:*\"}", podman, false},
		{"{image: \"*/postgres:*\"}", podman, false}, // * does not cross /
		{"{image: \"*/*/postgres:*\"}", podman, true},
		{"{image: \"nginx:1.2[0-9]\"}", web, true},
		{"{labels: {app: web}}", web, true},
		{"{labels: {app: \"w*\"}}", web, true},
		{"{labels: {app: db}}", web, false},
		{"{labels: {tier: \"*\"}}", web, false}, // a label must be present
		{"{labels: {app: web, tier: \"*\"}}", web, false},
		{"{labels: {}}", host, true},
		{"{pod_namespace: \"prod-*\"}", web, true},
		{"{pod_namespace: \"prod\"}", web, false},
		{"{pod_namespace: \"*\"}", podman, false}, // not a pod
		{"{engine: docker, name: \"web-*\", image: \"nginx:*\", labels: {app: web}, pod_namespace: \"prod-*\"}", web, true},
		{"{engine: docker, name: \"web-*\", image: \"nginx:*\", labels: {app: web}, pod_namespace: \"dev-*\"}", web, false},
	}
	for _, tt := range tests {
		p := mustParse(t, "version: 1\nrules:\n  - name: r\n    match: "+tt.match+"\n    expect: {no_new_privs: true}\n")
		r := p.Rules()[0]
		if got := r.Matches(tt.target); got != tt.want {
			t.Errorf("match %s on %v: %v, want %v", tt.match, tt.target, got, tt.want)
		}
		if res := p.Evaluate(tt.target, goodFacts())[0]; res.Matched != tt.want || (!res.Matched && res.Violations != nil) {
			t.Errorf("match %s on %v: Evaluate %+v", tt.match, tt.target, res)
		}
	}
}

func TestTargetString(t *testing.T) {
	tests := []struct {
		t    Target
		want string
	}{
		{web, "docker/web-1"},
		{Target{Engine: "runc", ID: "0123456789abcdef0123"}, "runc/0123456789ab"},
		{Target{Engine: "podman", ID: "abc"}, "podman/abc"},
		{Target{Engine: "host", PID: 77}, "host/pid-77"},
		{Target{PID: 9}, "unknown/pid-9"},
	}
	for _, tt := range tests {
		if got := tt.t.String(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.t, got, tt.want)
		}
	}
}

// TestPolicyImmutable checks that what Rules returns cannot change the
// policy.
func TestPolicyImmutable(t *testing.T) {
	p := mustParse(t, "version: 1\nrules:\n  - name: a\n    expect: {no_new_privs: true}\n  - name: b\n    expect: {seccomp: filter}\n")
	rules := p.Rules()
	rules[0] = rules[1]
	rules[0].Facts()[0] = "changed"
	if got := p.Rules(); got[0].Name() != "a" || got[0].Facts()[0] != "no_new_privs" {
		t.Errorf("policy changed through Rules: %v", got[0].Name())
	}
	if line, col := p.Rules()[1].Pos(); line != 5 || col != 5 {
		t.Errorf("rule b at %d:%d, want 5:5", line, col)
	}
}
