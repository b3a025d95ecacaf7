package server

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nsinspect/nsinspect/engine"
)

// The runtime's word on a CRI container (containerd's copy of kubelet's
// labels) names it and its pod; the cgroup's pod UID stays when the
// runtime has none; a container the runtime does not know, or of
// another engine, is left as the pass found it.
func TestScannerPods(t *testing.T) {
	kube, known, docker := strings.Repeat("a", 64), strings.Repeat("b", 64), strings.Repeat("c", 64)
	uid := "0f6c1f6e-8d3a-4b7e-9f58-2a1d3c4b5e6f"
	obs := func(eng, id string) *Observed {
		o := &Observed{Container: engine.Container{Engine: eng, ID: id}}
		o.Pod.UID = uid
		return o
	}
	p := &Pass{Containers: []*Observed{obs("kubernetes", kube), obs("containerd", known), obs("docker", docker)}}
	s := &Scanner{Pods: func(context.Context) (map[string]*engine.Container, error) {
		return map[string]*engine.Container{
			kube: {Engine: "containerd", ID: kube, Name: "app", Namespace: "k8s.io",
				Pod: engine.Pod{Namespace: "shop", Name: "web", Container: "app"}},
			docker: {Engine: "containerd", ID: docker, Name: "nope"},
		}, nil
	}}
	s.pods(p)
	c := p.Containers[0]
	if c.Engine != "containerd" || c.Name != "app" || c.Namespace != "k8s.io" || c.Pod != (engine.Pod{Namespace: "shop", Name: "web", UID: uid, Container: "app"}) {
		t.Errorf("kubelet's container: %+v", c.Container)
	}
	if c := p.Containers[1]; c.Name != "" || c.Pod.Name != "" || c.Pod.UID != uid {
		t.Errorf("a container the runtime does not know: %+v", c.Container)
	}
	if c := p.Containers[2]; c.Engine != "docker" || c.Name != "" {
		t.Errorf("docker's container: %+v", c.Container)
	}
	if p.Errors["engine_api"] != 0 {
		t.Errorf("errors %v", p.Errors)
	}
	s.Pods = func(context.Context) (map[string]*engine.Container, error) { return nil, errors.New("down") }
	s.pods(p)
	if p.Errors["engine_api"] != 1 {
		t.Errorf("a runtime that does not answer: errors %v, want one engine_api", p.Errors)
	}
}
