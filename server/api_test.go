package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nsinspect/nsinspect/engine"
	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/schema/schematest"
)

// /api/containers carries what the pass knows of each container's pod
// and containerd namespace: a CRI container with its pod and its name in
// the pod spec, the pod's sandbox marked, a container of another engine
// with none of it. The answer validates against the OpenAPI document.
func TestAPIContainersPods(t *testing.T) {
	app, sandbox, docker := strings.Repeat("a", 64), strings.Repeat("b", 64), strings.Repeat("c", 64)
	uid := "0f6c1f6e-8d3a-4b7e-9f58-2a1d3c4b5e6f"
	cgroup := "/kubepods/besteffort/pod" + uid + "/"
	pass := &Pass{Model: &model.Model{Source: "proc"}, Containers: []*Observed{
		{Container: engine.Container{Engine: "containerd", ID: app, Name: "app", Namespace: "k8s.io", Cgroup: cgroup + app, PID: 10,
			Pod: engine.Pod{Namespace: "shop", Name: "web", UID: uid, Container: "app"}}, Processes: 1},
		{Container: engine.Container{Engine: "containerd", ID: sandbox, Name: "web", Namespace: "k8s.io", Cgroup: cgroup + sandbox, PID: 9,
			Pod: engine.Pod{Namespace: "shop", Name: "web", UID: uid, Sandbox: true}}, Processes: 1},
		{Container: engine.Container{Engine: "docker", ID: docker, Name: "db", Cgroup: "/docker/" + docker, PID: 11}, Processes: 2},
	}}
	api := API{Cache: NewCache(func() (*Pass, error) { return pass, nil }, time.Minute)}
	h := NewHandler(Config{Endpoints: api.Endpoints(), Metrics: http.NotFoundHandler(),
		Health: func() (any, error) { return nil, errors.New("unused") }})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/api/containers", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	v, err := schematest.New()
	if err != nil {
		t.Fatal(err)
	}
	if err := v.ValidateAnswer("/api/containers", w.Code, w.Body.Bytes()); err != nil {
		t.Error(err)
	}
	var got struct {
		Containers []map[string]any `json:"containers"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{
		{"engine": "containerd", "id": app, "name": "app", "containerd_namespace": "k8s.io",
			"pod_uid": uid, "pod_namespace": "shop", "pod": "web", "pod_container": "app"},
		{"engine": "containerd", "id": sandbox, "name": "web", "containerd_namespace": "k8s.io",
			"pod_uid": uid, "pod_namespace": "shop", "pod": "web", "pod_sandbox": true},
		{"engine": "docker", "id": docker, "name": "db"},
	}
	if len(got.Containers) != len(want) {
		t.Fatalf("%d containers, want %d: %s", len(got.Containers), len(want), w.Body)
	}
	podKeys := []string{"containerd_namespace", "pod_uid", "pod_namespace", "pod", "pod_container", "pod_sandbox"}
	for i, c := range got.Containers {
		for k, wv := range want[i] {
			if c[k] != wv {
				t.Errorf("container %d: %s = %v, want %v", i, k, c[k], wv)
			}
		}
		for _, k := range podKeys {
			if _, ok := want[i][k]; !ok && c[k] != nil {
				t.Errorf("container %d: %s = %v, want it absent", i, k, c[k])
			}
		}
	}
}
