// Package inspect is nsinspect's application core: what a command or a
// server endpoint asks, answered the same way whoever asks.
//
// It holds the typed errors every answer fails with (errors.go), each of
// one Class that cmd/nsinspect maps to an exit code and server/ to an
// HTTP status, each in one table; and the one target grammar
// (target.go): PID, self, PID:TID, docker:NAME, podman:[USER/]NAME and
// runc:[USER/]ID, resolved to a task pinned by a pidfd (pidfd_open(2))
// whose data is read only while the pin says it is still the task that
// was named.
package inspect
