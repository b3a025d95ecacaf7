package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nsinspect/nsinspect/clone"
	"github.com/nsinspect/nsinspect/features"
)

// Exit codes, documented in --help and the README. Scripts rely on them.
const (
	exitOK        = 0
	exitAssertion = 1 // an --expect (or matrix) assertion did not hold
	exitUsage     = 2 // bad input: unknown flag, PID, type, malformed --expect
	exitKernel    = 3 // the kernel refused the experiment's clone/unshare call
	exitPrivilege = 4 // a needed privilege or kernel feature is missing
	exitFailure   = 5 // anything else went wrong while inspecting
)

const exitCodesHelp = `Exit codes:
  0  success
  1  an --expect assertion, an audit --policy rule (or a matrix verdict) did not hold
  2  bad input: unknown option, PID, container, namespace type, malformed --expect or policy
  3  the kernel refused the clone/unshare call (errno explained)
  4  a needed privilege or kernel feature is missing
  5  any other failure while inspecting`

// exitError carries an exit code and a one-line message for the user.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func usageErrorf(format string, a ...any) error {
	return &exitError{code: exitUsage, msg: fmt.Sprintf(format, a...)}
}

func privilegeErrorf(format string, a ...any) error {
	return &exitError{code: exitPrivilege, msg: fmt.Sprintf(format, a...)}
}

// errAssertion is returned after a failed assertion's diff was printed.
var errAssertion = &exitError{code: exitAssertion}

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if errors.Is(err, features.ErrMissing) {
		return exitPrivilege
	}
	if errors.Is(err, clone.ErrNoCgo) {
		return exitPrivilege // a build without the C child: no experiments
	}
	return exitFailure
}

// kernelRefusal is exit 3 with one line on stderr. The report (stdout)
// already explains the refusal, but a script that only reads stderr and the
// exit code must learn what the kernel said too.
func kernelRefusal(syscall string, flags []string, errno string, why []string) error {
	msg := fmt.Sprintf("the kernel refused %s(%s) with %s", syscall, strings.Join(flags, "|"), errno)
	if len(why) == 0 {
		return &exitError{code: exitKernel, msg: msg + " (see the report and 'nsinspect explain')"}
	}
	return &exitError{code: exitKernel, msg: msg + ": " + why[0]}
}
