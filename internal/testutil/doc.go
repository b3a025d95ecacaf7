// Package testutil holds the helpers tests share: the privilege gate that
// fails instead of skipping under CI=true (RequireRoot, Unavailable), the
// external commands a test runs, each bounded by a timeout and failing
// with its stderr (Command, Output, MustRun, Run, Pipe), the children a
// test starts and reaps (Start, Unshare, ThreadUnshare), and leak checks:
// CheckLeaks for fds and goroutines, NoChildren for processes.
package testutil
