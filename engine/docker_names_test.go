package engine

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testdata/docker-containers.json is a real GET /containers/json answer from this
// machine's engine: nsi-fixture-b was started with --link nsi-fixture-a:alias,
// so nsi-fixture-a also carries the name "/nsi-fixture-b/alias".
func TestDecodeListFixture(t *testing.T) {
	f, err := os.Open("testdata/docker-containers.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names, err := decodeList(f)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for id, n := range names {
		if len(id) != 64 {
			t.Errorf("id %q is not a full id", id)
		}
		got[n] = true
	}
	if len(names) != 2 || !got["nsi-fixture-a"] || !got["nsi-fixture-b"] {
		t.Errorf("names = %v, want nsi-fixture-a and nsi-fixture-b", names)
	}
}

// serve answers on a unix socket in a temporary directory and points
// DOCKER_HOST at it.
func serveDockerAPI(t *testing.T, h http.HandlerFunc) {
	sock := filepath.Join(t.TempDir(), "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	t.Setenv("DOCKER_HOST", "unix://"+sock)
}

func TestNamesOverSocket(t *testing.T) {
	fixture, err := os.ReadFile("testdata/docker-containers.json")
	if err != nil {
		t.Fatal(err)
	}
	var path string
	serveDockerAPI(t, func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.String()
		w.Write(fixture)
	})
	names, err := DockerNames(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 2 || path != "/containers/json?all=1" {
		t.Errorf("asked %q, got %v", path, names)
	}
}

// An engine that does not answer is given up on at namesTimeout.
func TestNamesHungEngine(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	serveDockerAPI(t, func(w http.ResponseWriter, r *http.Request) { <-release })
	if _, err := DockerNames(context.Background()); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the lookup's deadline", err)
	}
}

func TestNamesUnreachable(t *testing.T) {
	for _, tt := range []struct{ host, want string }{
		{"unix:///nonexistent/docker.sock", "no such file"},
		{"tcp://127.0.0.1:2375", "not a unix socket"},
	} {
		t.Setenv("DOCKER_HOST", tt.host)
		if _, err := DockerNames(context.Background()); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("DOCKER_HOST=%s: err = %v, want %q", tt.host, err, tt.want)
		}
	}
	serveDockerAPI(t, func(w http.ResponseWriter, r *http.Request) { http.Error(w, "nope", http.StatusInternalServerError) })
	if _, err := DockerNames(context.Background()); err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("err = %v, want the 500 status", err)
	}
}

func FuzzDecodeList(f *testing.F) {
	b, err := os.ReadFile("testdata/docker-containers.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
	f.Add(`[{"Id":"x","Names":["/a/b","/"]}]`)
	f.Fuzz(func(t *testing.T, s string) {
		names, err := decodeList(strings.NewReader(s))
		if err != nil {
			return
		}
		for id, n := range names {
			if n == "" || strings.Contains(n, "/") {
				t.Fatalf("container %q: bad name %q", id, n)
			}
		}
	})
}
