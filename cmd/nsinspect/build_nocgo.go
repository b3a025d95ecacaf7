//go:build !cgo

package main

// cgoBuild: this binary was built with CGO_ENABLED=0, without the C child.
const cgoBuild = false
