// Package render prints the core's results (package inspect and the
// engines' reports) for a terminal: tables laid out like util-linux's,
// trees, and DOT. Every renderer takes an io.Writer and core types only,
// and returns the writer's error; none reads /proc, the kernel or an
// engine, so the golden tests beside them run without root.
package render
