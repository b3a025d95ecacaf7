// Package features asks the running kernel, once per run, which of the
// interfaces nsinspect can use it has, and says what each one changes.
//
// nsinspect supports Linux 6.1 and later (the oldest kernel its test
// matrix boots, Debian 12's). Everything newer than that, and every
// interface a kernel may be built without, is probed here rather than
// assumed from the version number: distribution kernels backport and
// configure, and a seccomp filter (Docker's default profile answers ENOSYS
// for clone3) can hide a system call the kernel has. A probe makes the
// cheapest call that tells "has it" from "has not" by its errno, and
// records the call and the answer as evidence.
//
// Callers ask Has(NSGetID) on their own path; `nsinspect features` prints
// All(). Where an interface is missing, the caller either falls back (the
// Feature's Without says how) or stops with Missing's error, which names
// the interface and the kernel version that added it.
//
// For tests, NSINSPECT_PRETEND_MISSING=NAME,NAME makes the named features
// report absent, so that the fallbacks of old kernels run on a new one.
//
// Man pages: ioctl_ns(2), pidfd_open(2), clone(2), close_range(2), kcmp(2).
package features
