package engine

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The fixtures are real answers on this machine (docker 20.10, podman
// 4.3.1, cgroup v1): GET /containers/NAME/json from dockerd and from
// `podman system service`, and `podman inspect --format json` as root and
// as a rootless user, of `nsinspect hold` containers labelled
// nsinspect.test=probe.
func TestDecodeInspectFixtures(t *testing.T) {
	for _, tt := range []struct {
		file, name, image, status, netMode, cgroupns string
		pid                                          int
		capDrop                                      []string
	}{
		{"docker-inspect.json", "nsi-dprobe", "nsinspect", "running", "default", "host", 14846, nil},
		{"docker-inspect-exited.json", "nsi-dstopped", "nsinspect", "exited", "default", "host", 0, nil},
		{"podman-compat-inspect.json", "nsi-probe", "localhost/nsinspect:latest", "running", "bridge", "", 14528,
			[]string{"CAP_AUDIT_WRITE", "CAP_MKNOD", "CAP_NET_RAW"}},
	} {
		f, err := os.Open("testdata/" + tt.file)
		if err != nil {
			t.Fatal(err)
		}
		c, err := decodeInspect(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		d := c.Declared
		if c.Name != tt.name || c.Image != tt.image || c.Status != tt.status || c.PID != tt.pid || len(c.ID) != 64 ||
			d.NetworkMode != tt.netMode || d.CgroupnsMode != tt.cgroupns || !slices.Equal(d.CapDrop, tt.capDrop) {
			t.Errorf("%s: got %+v", tt.file, c)
		}
		if c.Labels["nsinspect.test"] != "probe" && tt.status == "running" { // the exited one was not labelled
			t.Errorf("%s: labels %v, want nsinspect.test=probe", tt.file, c.Labels)
		}
	}
}

// serve answers on a unix socket in a temporary directory and returns its
// path.
func serve(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "engine.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return sock
}

// inspectServer answers GET /containers/NAME/json for one name with a
// fixture, 404 with the engine's own body for any other.
func inspectServer(t *testing.T, fixture, name string, asked *[]string) string {
	b, err := os.ReadFile("testdata/" + fixture)
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, func(w http.ResponseWriter, r *http.Request) {
		*asked = append(*asked, r.URL.EscapedPath())
		if r.URL.EscapedPath() != "/containers/"+name+"/json" {
			http.Error(w, `{"message":"No such container"}`, http.StatusNotFound)
			return
		}
		w.Write(b)
	})
}

func TestLookupDocker(t *testing.T) {
	var asked []string
	sock := inspectServer(t, "docker-inspect.json", "nsi-dprobe", &asked)
	t.Setenv("DOCKER_HOST", "unix://"+sock)
	c, err := Lookup(context.Background(), "docker", "nsi-dprobe")
	if err != nil {
		t.Fatal(err)
	}
	if c.Engine != "docker" || c.Name != "nsi-dprobe" || c.PID != 14846 || c.Rootless {
		t.Errorf("got %+v", c)
	}
	_, err = Lookup(context.Background(), "docker", "x y/z")
	want := `no docker container named "x y/z" (asked the Docker engine at ` + sock + ")"
	if !errors.Is(err, ErrNotFound) || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
	var e *Error
	if !errors.As(err, &e) || e.Engine != "docker" || e.Name != "x y/z" {
		t.Errorf("err = %#v, want an *Error with engine and name", err)
	}
	if asked[1] != "/containers/x%20y%2Fz/json" {
		t.Errorf("asked %q: the name must be one escaped path segment", asked[1])
	}
}

func TestLookupDockerExited(t *testing.T) {
	var asked []string
	t.Setenv("DOCKER_HOST", "unix://"+inspectServer(t, "docker-inspect-exited.json", "nsi-dstopped", &asked))
	_, err := Lookup(context.Background(), "docker", "nsi-dstopped")
	if !errors.Is(err, ErrNotRunning) || !strings.Contains(err.Error(), `status "exited"`) {
		t.Errorf("err = %v, want not running, status exited", err)
	}
}

func TestLookupNoEngine(t *testing.T) {
	for _, tt := range []struct{ host, want string }{
		{"unix:///nonexistent/docker.sock", `the Docker engine's socket /nonexistent/docker.sock is absent (no such file or directory): start dockerd, or set DOCKER_HOST=unix://PATH, so docker container "web" cannot be looked up`},
		{"tcp://127.0.0.1:2375", "DOCKER_HOST=tcp://127.0.0.1:2375 is not a unix:// socket"},
	} {
		t.Setenv("DOCKER_HOST", tt.host)
		_, err := Lookup(context.Background(), "docker", "web")
		if !errors.Is(err, ErrNoEngine) || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("DOCKER_HOST=%s: err = %v, want %q", tt.host, err, tt.want)
		}
	}
	if _, err := Lookup(context.Background(), "lxc", "web"); !errors.Is(err, ErrEngine) {
		t.Errorf("lxc: err = %v, want an unknown engine", err)
	}
}

// An engine that accepts and never answers is given up on at Timeout.
func TestLookupHungEngine(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	t.Setenv("DOCKER_HOST", "unix://"+serve(t, func(w http.ResponseWriter, r *http.Request) { <-release }))
	start := time.Now()
	_, err := Lookup(context.Background(), "docker", "web")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > Timeout+time.Second {
		t.Errorf("err = %v after %v, want the lookup's deadline at %v", err, time.Since(start), Timeout)
	}
}

func TestLookupEngineError(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+serve(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	_, err := Lookup(context.Background(), "docker", "web")
	if err == nil || !strings.Contains(err.Error(), "500") || !strings.Contains(err.Error(), "boom") {
		t.Errorf("err = %v, want the 500 and the engine's message", err)
	}
}

// podman's API socket answers Docker's inspect in Docker's shape.
func TestLookupPodmanSocket(t *testing.T) {
	var asked []string
	sock := inspectServer(t, "podman-compat-inspect.json", "nsi-probe", &asked)
	if os.Geteuid() == 0 {
		old := rootfulPodmanSocket
		rootfulPodmanSocket = sock
		t.Cleanup(func() { rootfulPodmanSocket = old })
	} else {
		dir := t.TempDir()
		os.Mkdir(dir+"/podman", 0o700)
		if err := os.Symlink(sock, dir+"/podman/podman.sock"); err != nil {
			t.Fatal(err)
		}
		t.Setenv("XDG_RUNTIME_DIR", dir)
	}
	c, err := Lookup(context.Background(), "podman", "nsi-probe")
	if err != nil {
		t.Fatal(err)
	}
	if c.Engine != "podman" || c.Name != "nsi-probe" || c.PID != 14528 || c.Rootless != (os.Geteuid() != 0) {
		t.Errorf("got %+v", c)
	}
	_, err = Lookup(context.Background(), "podman", "nope")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "podman's API socket at") {
		t.Errorf("err = %v, want not found, naming the socket", err)
	}
}
