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
package integration
