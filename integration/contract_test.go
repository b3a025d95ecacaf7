package integration

import (
	"net/url"
	"slices"
	"sync"
	"testing"

	"github.com/nsinspect/nsinspect/schema/schematest"
)

// contract is schema/'s validator, compiled once for the package.
var contract = sync.OnceValues(schematest.New)

// checkContract fails t when what a command line that runs nsinspect
// printed on stdout does not validate against its command's schema:
// every --json output the tests make is checked, whatever the test
// itself reads of it. argv may start with a wrapper (nsenter, unshare,
// sh -c) that runs the binary.
func checkContract(t testing.TB, argv []string, stdout string) {
	t.Helper()
	i := slices.Index(argv, binary)
	if i < 0 {
		return
	}
	v, err := contract()
	if err != nil {
		t.Fatalf("schema/: %v", err)
	}
	if err := v.ValidateArgs(argv[i+1:], []byte(stdout)); err != nil {
		t.Errorf("%v\n%s", err, stdout)
	}
}

// checkAnswer fails t when an answer of serve does not match
// schema/openapi.yaml: a GET's status must be documented for its path and
// its body validate against that response's schema; any other method's
// body is an error.
func checkAnswer(t testing.TB, method, target string, status int, body []byte) {
	t.Helper()
	v, err := contract()
	if err != nil {
		t.Fatalf("schema/: %v", err)
	}
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case method == "GET":
		err = v.ValidateAnswer(u.Path, status, body)
	case len(body) > 0:
		err = v.Validate("error", body)
	}
	if err != nil {
		t.Errorf("%s %s: %v\n%s", method, target, err, body)
	}
}
