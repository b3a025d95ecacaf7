// Package flags is what clone(2), clone3(2) and unshare(2) say about a set
// of clone flags, without making a call: one table of every flag
// (table.go: the ones experiments run, the ones they leave out and why,
// and the exit signal) that `nsinspect explain` prints and Parse reads
// names from; how people write the flags (Parse, ParseClone, Lookup);
// which rule of the man pages explains an errno the kernel returned
// (Explain, ExplainUnshare, Restrictions); and which of the sixteen
// resources parent and child should share afterwards (Expected).
//
// It makes no system call, reads no file and needs no cgo, so that
// `nsinspect explain`, the renderers and the graphs can use it in any
// build. The one input beyond the flags is the kernel release (Release),
// because one expectation changed in Linux 6.2 without an interface to
// probe (see docs/kernel-notes.md, "Behaviour that changed between
// kernels"). Package clone makes the calls; package clone/report holds
// what they found.
//
// Man pages: clone(2), clone3(2), unshare(2), namespaces(7).
package flags
