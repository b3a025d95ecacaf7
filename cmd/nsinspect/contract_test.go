package main

import (
	"slices"
	"testing"

	"github.com/nsinspect/nsinspect/schema/schematest"
	"github.com/nsinspect/nsinspect/server"
)

// Every path serve answers is documented in schema/openapi.yaml with the
// query parameters it takes, and every documented path is served; a
// path limited to LiveLimit requests documents its 429.
func TestServeEndpointsDocumented(t *testing.T) {
	v, err := schematest.New()
	if err != nil {
		t.Fatal(err)
	}
	served := []string{"/healthz", "/metrics"}
	for _, ep := range append((server.API{}).Endpoints(), (*server.Events)(nil).Endpoint()) {
		served = append(served, ep.Path)
		params, ok := v.Operation(ep.Path)
		if !ok {
			t.Errorf("%s is served but not in schema/openapi.yaml", ep.Path)
			continue
		}
		var names []string
		for _, p := range params {
			names = append(names, p.Name)
		}
		if !slices.Equal(sorted(names), sorted(ep.Params)) {
			t.Errorf("%s takes %v; schema/openapi.yaml documents %v", ep.Path, ep.Params, names)
		}
		// Live endpoints share LiveLimit; a stream has a limit of its own.
		if limited := ep.Live || ep.Stream != nil; limited != v.Documents(ep.Path, 429) {
			t.Errorf("%s: limited %v, but schema/openapi.yaml documents a 429: %v", ep.Path, limited, v.Documents(ep.Path, 429))
		}
	}
	if got := v.Paths(); !slices.Equal(sorted(served), got) {
		t.Errorf("served paths %v, schema/openapi.yaml documents %v", sorted(served), got)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// What the commands print without privilege validates against their
// schemas (integration/ checks every --json output its tests make).
func TestJSONOutputsValidate(t *testing.T) {
	v, err := schematest.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"explain", "--json"},
		{"explain", "pid_for_children", "--json"},
		{"features", "--json"},
		{"show", "self", "--json"},
		{"fds", "self", "--json"},
		{"compare", "--json", "self", "self"},
	} {
		out, code, err := execute(t, args...)
		if code != exitOK {
			t.Errorf("%v: exit %d: %v", args, code, err)
			continue
		}
		if err := v.ValidateArgs(args, []byte(out)); err != nil {
			t.Error(err)
		}
	}
}
