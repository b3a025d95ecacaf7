package inspect

import (
	"errors"
	"fmt"

	"github.com/nsinspect/nsinspect/procinfo"
)

// PolicyError is a policy file's errors on one line, for a log line or
// /healthz: the first and how many more. PolicyErrors gives them all.
func PolicyError(err error) string {
	errs := policyErrList(err)
	if len(errs) == 1 {
		return "bad policy: " + errs[0].Error()
	}
	return fmt.Sprintf("bad policy: %v (and %d more errors)", errs[0], len(errs)-1)
}

// PolicyErrors is a policy file's errors as bad input, one line each at
// FILE:LINE:COL, prefixed with what was loading it.
func PolicyErrors(prefix string, err error) error {
	if procinfo.IsDenied(err) {
		return Privilegef("%s%v (run as a user who may read it)", prefix, err)
	}
	var out []error
	for _, e := range policyErrList(err) {
		out = append(out, BadInputf("%sbad policy: %v", prefix, e))
	}
	return errors.Join(out...)
}

// policyErrList unpacks policy.Parse's errors.Join.
func policyErrList(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
