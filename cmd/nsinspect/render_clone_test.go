package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/nsinspect/nsinspect/clone/report"
)

// cloneFixture is a small report of a call that succeeded in a lab.
func cloneFixture(value uint64, names ...string) *report.Clone {
	if names == nil {
		names = []string{}
	}
	return &report.Clone{
		Flags: names, Value: value, ValueHex: "0x0", Syscall: "clone", Mode: "lab",
		Parent:   &report.Side{PID: 100, TID: 100, NSpid: []int{100, 2}},
		Child:    &report.Side{PID: 101, TID: 101, NSpid: []int{101, 3}},
		Relation: &report.Relation{ChildTgid: 101, ChildPPid: 100, ChildNSpid: []int{101, 3}},
	}
}

func renderCloneText(r *report.Clone) string {
	var b bytes.Buffer
	renderClone(&b, r)
	return b.String()
}

// `nsinspect clone 0` (a plain fork) names its flags "0", not nothing.
func TestRenderCloneNoFlags(t *testing.T) {
	first, _, _ := strings.Cut(renderCloneText(cloneFixture(0)), "\n")
	if !strings.HasPrefix(first, "clone(0 = 0x0) ") {
		t.Errorf("first line %q, want it to start with \"clone(0 = 0x0) \"", first)
	}
}
