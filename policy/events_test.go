package policy

import (
	"strings"
	"testing"
)

const eventPolicy = `version: 1
rules:
  - name: containers-stay-out-of-host-namespaces
    match: {engine: "[dpr]*"}
    forbid:
      - {event: setns, into: host}
  - name: web-makes-no-user-namespaces
    match: {engine: docker, name: "web*"}
    forbid:
      - {event: unshare, types: [user]}
      - {event: fork, types: user}
  - name: nobody-tries-net
    forbid:
      - {event: setns, types: [net], result: failed}
  - name: audit-only
    expect: {no_new_privs: true}
`

func TestCheckEvent(t *testing.T) {
	p, err := Parse("events.yaml", []byte(eventPolicy))
	if err != nil {
		t.Fatal(err)
	}
	if n, m := len(p.EventRules()), len(p.ExpectRules()); n != 3 || m != 1 {
		t.Fatalf("EventRules %d, ExpectRules %d; want 3 and 1", n, m)
	}
	web := Target{Engine: "docker", ID: "4b43b7e2d9b9", Name: "web", PID: 7}
	db := Target{Engine: "podman", ID: "1cfa4b18674d", Name: "db", PID: 8}
	host := Target{Engine: "host", PID: 9}
	gone := Target{PID: 10, Unidentified: "the caller exited before its container was looked up"}
	hostNet := Event{Kind: "setns", Types: []string{"net"}, IntoHost: []string{"net"}, What: "setns into net 4026531840"}
	otherNet := Event{Kind: "setns", Types: []string{"net"}, What: "setns into net 4026532999"}
	userns := Event{Kind: "unshare", Types: []string{"user"}, What: "unshare CLONE_NEWUSER"}
	userClone := Event{Kind: "fork", Types: []string{"user", "pid"}, What: "clone CLONE_NEWUSER|CLONE_NEWPID"}
	failedNet := Event{Kind: "setns", Failed: true, Types: []string{"net"}, IntoHost: []string{"net"}, What: "setns = EPERM"}
	unknownHost := hostNet
	unknownHost.IntoHost, unknownHost.HostUnknown = nil, "PID 2 is not kthreadd"
	tests := []struct {
		name string
		t    Target
		e    Event
		want []string // rule names; a "?" prefix: undecided
	}{
		{"container into a host net", db, hostNet, []string{"containers-stay-out-of-host-namespaces"}},
		{"container into another net", db, otherNet, nil},
		{"host process into host net", host, hostNet, nil},
		{"web unshares a user ns", web, userns, []string{"web-makes-no-user-namespaces"}},
		{"web clones a user ns", web, userClone, []string{"web-makes-no-user-namespaces"}},
		{"db unshares a user ns", db, userns, nil},
		{"a refused setns into net, anyone", host, failedNet, []string{"nobody-tries-net"}},
		{"a refused setns is no entry", db, failedNet, []string{"nobody-tries-net"}},
		{"a caller not told: engine rules undecided", gone, hostNet, []string{"?containers-stay-out-of-host-namespaces"}},
		{"a caller not told: an empty match decides", gone, failedNet, []string{"nobody-tries-net"}},
		{"host namespaces unknown", db, unknownHost, []string{"?containers-stay-out-of-host-namespaces"}},
		{"web not identified", Target{Engine: "docker", ID: "4b43b7e2d9b9", PID: 7, Unidentified: "docker did not answer"}, userns, []string{"?web-makes-no-user-namespaces"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, v := range p.CheckEvent(tt.t, tt.e) {
				name := v.Rule
				if v.Undecided != "" {
					name = "?" + name
				}
				got = append(got, name)
				line := v.String()
				if !strings.Contains(line, tt.e.What) || !strings.Contains(line, tt.t.String()) || strings.Contains(line, "\n") {
					t.Errorf("line %q: want one line naming %q and %q", line, tt.t, tt.e.What)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("CheckEvent = %v, want %v", got, tt.want)
			}
		})
	}
	// Evaluate (audit) sees only the expect rule.
	if res := p.Evaluate(host, nil); len(res) != 1 || res[0].Rule != "audit-only" {
		t.Errorf("Evaluate gave %v, want one result of audit-only", res)
	}
}
