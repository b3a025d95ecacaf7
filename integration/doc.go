// Package integration holds end-to-end tests of the built nsinspect binary
// against real processes and namespaces. They need root; under CI=true they
// fail when they cannot run.
//
// Two tests have a CI size and a full size:
//
//	NSINSPECT_RACE_SECONDS=60 go test -run TestRaceUnderChurn ./integration   # default 15 s
//	NSINSPECT_RESIDUE_N=1000  go test -run TestNoResidueUnderKill ./integration # default 200, 10% SIGKILLed
//
// TestBadInput holds every kind of bad input and its exit code (README,
// "Exit codes").
//
// The TestKernelTruth tests (truth_test.go) check nsinspect against the
// kernel's own answer, taken from busybox alone: a population made by
// `busybox unshare` (-n -u, -i -m, -p -f, -U -r and plain sleeps), and for
// each process `busybox readlink /proc/PID/ns/<link>` for the ten links. ls,
// ls -p, compare (--json and --expect), show, clone and unshare must agree
// with those inodes and with clone(2), and fail loudly where they do not (as
// on a kernel without NS_GET_ID). They are what the busybox VMs run on each
// kernel, with no Go toolchain there:
//
//	CI=true NSINSPECT_BIN=/bin/nsinspect NSINSPECT_BUSYBOX=/bin/busybox ./integration.test -test.run '^TestKernelTruth'
//
// NSINSPECT_BIN is a prebuilt nsinspect (`make static` builds
// bin/rootfs/nsinspect) that TestMain copies instead of running go build;
// NSINSPECT_BUSYBOX is the busybox to use, else busybox on PATH.
package integration
