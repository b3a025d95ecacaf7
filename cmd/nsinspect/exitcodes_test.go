package main

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/nsinspect/nsinspect/inspect"
)

// TestExitCodeOfEveryClass: the one table covers every class, and each
// code means one class.
func TestExitCodeOfEveryClass(t *testing.T) {
	seen := map[int]inspect.Class{}
	for c := inspect.OK; c <= inspect.Undecided; c++ {
		code, ok := exitCodes[c]
		if !ok {
			t.Errorf("class %v has no exit code", c)
			continue
		}
		if other, dup := seen[code]; dup {
			t.Errorf("exit %d means both %v and %v", code, other, c)
		}
		seen[code] = c
	}
	if len(seen) != len(exitMeanings) {
		t.Errorf("%d codes in the table, %d meanings in --help", len(seen), len(exitMeanings))
	}
}

// TestEveryHelpHasExitCodes: every command's --help ends with the table.
func TestEveryHelpHasExitCodes(t *testing.T) {
	root := newRootCmd([]string{"help"})
	buildAll(root)
	if !strings.Contains(root.Long, exitCodesHelp) {
		t.Error("nsinspect --help lacks the exit codes")
	}
	for _, c := range root.Commands() {
		if c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		if !strings.Contains(c.Long, exitCodesHelp) {
			t.Errorf("nsinspect %s --help lacks the exit codes", c.Name())
		}
	}
}

// TestREADMEExitCodes: the README's table says, code by code, what
// --help says.
func TestREADMEExitCodes(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range exitMeanings {
		row := "| " + strconv.Itoa(m.code) + " | " + m.meaning + " |"
		if !strings.Contains(string(b), row) {
			t.Errorf("README.md has no row %q", row)
		}
	}
}
