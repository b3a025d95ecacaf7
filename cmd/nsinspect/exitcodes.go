package main

import (
	"fmt"
	"strings"

	"github.com/nsinspect/nsinspect/inspect"
)

// Exit codes, documented in --help and the README. Scripts rely on them.
const (
	exitOK        = 0
	exitAssertion = 1 // an --expect assertion or a policy rule was checked and does not hold
	exitUsage     = 2 // bad input, a task or container that does not exist
	exitKernel    = 3 // the kernel refused the experiment's clone/unshare call
	exitPrivilege = 4 // a needed privilege or kernel feature is missing
	exitFailure   = 5 // nsinspect could not find out
)

// exitCodes is the one table from an error's class to the exit code;
// server/ has the other, to HTTP statuses.
var exitCodes = map[inspect.Class]int{
	inspect.OK:            exitOK,
	inspect.Assertion:     exitAssertion,
	inspect.BadInput:      exitUsage,
	inspect.KernelRefused: exitKernel,
	inspect.Privilege:     exitPrivilege,
	inspect.Undecided:     exitFailure,
}

// exitMeanings says what each code means, once: --help prints it
// (exitCodesHelp), and the README's table must say the same words
// (TestREADMEExitCodes).
var exitMeanings = []struct {
	code    int
	meaning string
}{
	{exitOK, "success: everything asked was checked and holds"},
	{exitAssertion, "an `--expect` assertion, an `audit --policy` rule, a `watch --policy` event rule or a `clone`/`unshare`/`matrix` verdict was checked and does not hold"},
	{exitUsage, "bad input, including a task or container that does not exist"},
	{exitKernel, "the kernel refused the experiment's `clone`/`unshare` call"},
	{exitPrivilege, "a privilege or kernel feature is missing, including a read or a socket the kernel refuses (EACCES, EPERM)"},
	{exitFailure, "nsinspect could not find out: an engine down or too slow, a task that exited while it was read, an I/O error; a run with both a violation and something undecided exits 5 and prints both"},
}

// exitCodesHelp is the table as every command's --help ends.
var exitCodesHelp = func() string {
	var b strings.Builder
	b.WriteString("Exit codes:")
	for _, m := range exitMeanings {
		fmt.Fprintf(&b, "\n  %d  %s", m.code, wrapText(strings.ReplaceAll(m.meaning, "`", ""), 72, "     "))
	}
	return b.String()
}()

// wrapText breaks s into lines of at most width, continuation lines
// starting with indent.
func wrapText(s string, width int, indent string) string {
	var b strings.Builder
	line := 0
	for i, w := range strings.Fields(s) {
		if i > 0 && line+1+len(w) > width {
			b.WriteString("\n" + indent)
			line = 0
		} else if i > 0 {
			b.WriteByte(' ')
			line++
		}
		b.WriteString(w)
		line += len(w)
	}
	return b.String()
}

func exitCode(err error) int { return exitCodes[inspect.ClassOf(err)] }

func usageErrorf(format string, a ...any) error { return inspect.BadInputf(format, a...) }

func privilegeErrorf(format string, a ...any) error { return inspect.Privilegef(format, a...) }

// errAssertion is returned after a failed assertion was printed: it
// carries the exit code and no line of its own.
var errAssertion = inspect.Assertionf("")

// exitStatus is a command's own exit code that is none of the table's:
// trace exits with its command's. It prints nothing.
type exitStatus struct{ code int }

func (e *exitStatus) Error() string { return "" }
