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
//
// Each command's answer is an exported type here that is its JSON
// contract (schema/NAME.json), and a function that computes it: Show
// (show.go), FDs and FDsKernel (fds.go, fds_kernel.go), Compare
// (compare.go, compare_kernel.go), Ls (ls.go), NSProxy (nsproxy.go),
// Kthreads (kthreads.go), AuditReport (audit.go); the clone and unshare
// experiments' outcomes (experiment.go). One discovery pass is run, or
// serve's source opened, by Discover and OpenSource (source.go), the one
// reader of --source. Nothing here prints: what a caller should tell the
// user besides the answer comes back as data (notes), and package render
// prints the answers.
package inspect
