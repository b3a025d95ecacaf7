package main

import "testing"

// FuzzParseTask: a target parses to positive pid and tid or to an engine
// and a name, or to a bad-input error (exit 2); never a panic.
func FuzzParseTask(f *testing.F) {
	for _, s := range []string{"self", "1", "1:1", "self:2", "0", "-1", "99999999999", "1:", ":1", "1:x", " 1", "", "4194304:4194305", "docker:", "docker:web", "podman:alice/db", "nosuch:x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tk, err := parseTask(s)
		if err != nil {
			if exitCode(err) != exitUsage {
				t.Fatalf("%q: error with exit code %d, want %d: %v", s, exitCode(err), exitUsage, err)
			}
			return
		}
		if tk.Engine != "" {
			if tk.Name == "" {
				t.Fatalf("%q parsed to engine %q with no name", s, tk.Engine)
			}
			return
		}
		if tk.PID <= 0 || tk.TID <= 0 {
			t.Fatalf("%q parsed to pid %d tid %d", s, tk.PID, tk.TID)
		}
	})
}
