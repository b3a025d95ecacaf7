//go:build cgo

package main

// cgoBuild says whether this binary has the C child that clone experiments
// need (clone/nsi_child.c, built through cgo).
const cgoBuild = true
