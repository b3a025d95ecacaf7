// Package integration holds end-to-end tests of the built nsinspect binary
// against real processes and namespaces. They need root; under CI=true they
// fail when they cannot run.
package integration
