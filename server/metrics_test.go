package server

import (
	"context"
	"errors"
	"testing"

	"github.com/nsinspect/nsinspect/internal/version"
)

// nsinspect_build_info names the version internal/version decides (a
// stamped git describe, or what the toolchain recorded), never Go's bare
// "(devel)".
func TestBuildInfo(t *testing.T) {
	m := NewMetrics(func(context.Context) (*Pass, error) { return nil, errors.New("no pass in this test") })
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := version.Get()
	for _, f := range families {
		if f.GetName() != "nsinspect_build_info" {
			continue
		}
		labels := map[string]string{}
		for _, l := range f.GetMetric()[0].GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["version"] != want.Version || labels["version"] == "(devel)" || labels["goversion"] != want.GoVersion {
			t.Errorf("nsinspect_build_info labels %v, want version %q and goversion %q", labels, want.Version, want.GoVersion)
		}
		return
	}
	t.Error("no nsinspect_build_info")
}
