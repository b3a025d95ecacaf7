package integration

import (
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestServeIsolationGauges checks the gauges an alert reads, per
// container, against how each was started: a default container, one in
// the host's net namespace, and one with CAP_SYS_ADMIN, no seccomp and
// the docker socket mounted in; then the policy's violations, and a
// SIGHUP reload (a good file replaces the rules, a bad one keeps them and
// says so in nsinspect_policy_last_reload_success).
func TestServeIsolationGauges(t *testing.T) {
	e := requireEngine(t)
	before := snapshot(t, e)
	t.Cleanup(func() { checkNoLeaks(t, e, before) })
	plain := e.startHold(t, "gauge-plain")
	hostnet := e.startHold(t, "gauge-hostnet", "--network", "host")
	loose := e.startHold(t, "gauge-loose", "--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined",
		"-v", "/var/run/docker.sock:/var/run/docker.sock")
	pol := writePolicy(t, `version: 1
rules:
  - name: own-net
    match: {engine: docker}
    expect:
      namespaces: {separate: [net]}
  - name: confined
    match: {engine: docker}
    expect:
      seccomp: filter
      capabilities: {absent: [CAP_SYS_ADMIN], sets: [effective]}
`)
	s := startServe(t, "--policy", pol, "--min-interval", "0s")
	metric := func(ms []metricSample, name, id string, label ...string) (float64, bool) {
		for _, m := range ms {
			if m.name != name || m.labels["container_id"] != id {
				continue
			}
			if len(label) == 2 && m.labels[label[0]] != label[1] {
				continue
			}
			return m.value, true
		}
		return 0, false
	}
	scrape := func() []metricSample {
		status, body := s.get(t, "/metrics")
		if status != 200 {
			t.Fatalf("/metrics: %d %s", status, body)
		}
		return parseMetrics(t, string(body))
	}
	ms := scrape()
	for _, tc := range []struct {
		c     container
		name  string
		label []string
		want  float64
	}{
		{plain, "nsinspect_container_seccomp_disabled", nil, 0},
		{loose, "nsinspect_container_seccomp_disabled", nil, 1},
		{plain, "nsinspect_container_privileged_capability", []string{"capability", "CAP_SYS_ADMIN"}, 0},
		{loose, "nsinspect_container_privileged_capability", []string{"capability", "CAP_SYS_ADMIN"}, 1},
		{plain, "nsinspect_container_sensitive_mounts", []string{"kind", "docker-socket"}, 0},
		{loose, "nsinspect_container_sensitive_mounts", []string{"kind", "docker-socket"}, 1},
		{plain, "nsinspect_container_host_namespace_shared", []string{"type", "net"}, 0},
		{hostnet, "nsinspect_container_host_namespace_shared", []string{"type", "net"}, 1},
		{plain, "nsinspect_policy_violations", []string{"rule", "own-net"}, 0},
		{hostnet, "nsinspect_policy_violations", []string{"rule", "own-net"}, 1},
		{plain, "nsinspect_policy_violations", []string{"rule", "confined"}, 0},
		{loose, "nsinspect_policy_violations", []string{"rule", "confined"}, 2}, // seccomp and CAP_SYS_ADMIN
	} {
		got, ok := metric(ms, tc.name, tc.c.id, tc.label...)
		if !ok || got != tc.want {
			t.Errorf("%s%v for %s: %v (present %v), want %v", tc.name, tc.label, tc.c.name, got, ok, tc.want)
		}
	}

	// SIGHUP with a new file: the new rules replace the old.
	os.WriteFile(pol, []byte("version: 1\nrules:\n  - name: own-pid\n    expect:\n      namespaces: {separate: [pid]}\n"), 0o644)
	s.cmd.Process.Signal(syscall.SIGHUP)
	reloaded := func(cond func([]metricSample) bool) []metricSample {
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			ms := scrape()
			if cond(ms) {
				return ms
			}
			if time.Now().After(deadline) {
				t.Fatal("the reload did not show in /metrics within 10 s")
			}
		}
	}
	ms = reloaded(func(ms []metricSample) bool {
		_, ok := metric(ms, "nsinspect_policy_violations", plain.id, "rule", "own-pid")
		return ok
	})
	if _, ok := metric(ms, "nsinspect_policy_violations", hostnet.id, "rule", "own-net"); ok {
		t.Errorf("after the reload, the old rule own-net is still reported")
	}
	if v, _ := metric(ms, "nsinspect_policy_violations", hostnet.id, "rule", "own-pid"); v != 0 {
		t.Errorf("own-pid on the host-net container: %v violations, want 0", v)
	}
	// SIGHUP with a bad file: the rules in force stay, the failure shows.
	os.WriteFile(pol, []byte("version: 1\nrules:\n  - name: typo\n    expect: {seccmp: filter}\n"), 0o644)
	s.cmd.Process.Signal(syscall.SIGHUP)
	ms = reloaded(func(ms []metricSample) bool {
		for _, m := range ms {
			if m.name == "nsinspect_policy_last_reload_success" && m.value == 0 {
				return true
			}
		}
		return false
	})
	if _, ok := metric(ms, "nsinspect_policy_violations", plain.id, "rule", "own-pid"); !ok {
		t.Errorf("after a bad reload the previous rules are gone")
	}
}

// TestServePolicyUndecided: a rule that selects containers by name is
// undecided for a container whose engine does not answer: the server
// exports nsinspect_policy_undecided for it, and no violations series
// that would read 0. With the engine answering, the same rule is decided.
func TestServePolicyUndecided(t *testing.T) {
	e := requireEngine(t)
	c := e.startHold(t, "undecided", "--network", "host")
	pol := writePolicy(t, `version: 1
rules:
  - name: named-isolated
    match: {name: "nsinspect-it-undecided-*"}
    expect:
      namespaces: {separate: [net]}
  - name: docker-isolated
    match: {engine: docker}
    expect:
      namespaces: {separate: [net]}
`)
	mute := muteSocket(t)
	series := func(s *served) map[string]float64 {
		status, body := s.get(t, "/metrics")
		if status != 200 {
			t.Fatalf("/metrics: %d %s", status, body)
		}
		got := map[string]float64{}
		for _, m := range parseMetrics(t, string(body)) {
			if m.labels["container_id"] == c.id {
				got[m.name+"/"+m.labels["rule"]] = m.value
			}
		}
		return got
	}
	slow := startServeEnv(t, []string{"DOCKER_HOST=unix://" + mute}, "--policy", pol, "--min-interval", "0s")
	got := series(slow)
	if v, ok := got["nsinspect_policy_undecided/named-isolated"]; !ok || v != 1 {
		t.Errorf("engine mute: nsinspect_policy_undecided{rule=named-isolated} = %v (present %v), want 1", v, ok)
	}
	if _, ok := got["nsinspect_policy_violations/named-isolated"]; ok {
		t.Errorf("engine mute: a violations series for the undecided rule: %v", got)
	}
	if v := got["nsinspect_policy_violations/docker-isolated"]; v != 1 {
		t.Errorf("engine mute: the engine-only rule is decidable and violated: %v, want 1", v)
	}
	slow.stop(t)

	ok := startServe(t, "--policy", pol, "--min-interval", "0s")
	got = series(ok)
	if _, present := got["nsinspect_policy_undecided/named-isolated"]; present {
		t.Errorf("engine answers: the rule is still undecided: %v", got)
	}
	if v := got["nsinspect_policy_violations/named-isolated"]; v != 1 {
		t.Errorf("engine answers: named-isolated violations = %v, want 1", v)
	}
}

// muteSocket is a unix socket that accepts connections and never
// answers: an engine too slow.
func muteSocket(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mute.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { conn.Close() })
		}
	}()
	return path
}
