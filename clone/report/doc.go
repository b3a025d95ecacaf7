// Package report is the outcome of a clone experiment as nsinspect prints
// it: Clone for one clone(2)/clone3(2) call, Unshare for one unshare(2),
// each with the two sides' snapshots (Side), a verdict with its evidence
// per resource, the witness probes and every disagreement between
// clone(2), the kernel's identities and the probes.
//
// The types carry no behaviour beyond judging what they hold (Judge), so
// that the renderers and graphs read a report in any build, cgo or not.
// Package clone fills them; JSON field names are the `--json` contract
// that the README documents.
package report
