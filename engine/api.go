package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// DefaultDockerSocket is where the Docker engine listens unless
// DOCKER_HOST says otherwise.
const DefaultDockerSocket = "/var/run/docker.sock"

// DockerSocket returns the Docker engine's unix socket: DOCKER_HOST when
// it is a unix:// address, else DefaultDockerSocket. A tcp:// DOCKER_HOST
// is not used (it may need TLS): ok is false.
func DockerSocket() (path string, ok bool) {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return strings.CutPrefix(h, "unix://")
	}
	return DefaultDockerSocket, true
}

func lookupDocker(ctx context.Context, name string) (*Container, string, error) {
	sock, ok := DockerSocket()
	if !ok {
		return nil, "DOCKER_HOST", because(ErrNoEngine,
			"DOCKER_HOST=%s is not a unix:// socket (nsinspect asks the engine on this machine only)", os.Getenv("DOCKER_HOST"))
	}
	asked := "the Docker engine at " + sock
	if _, err := os.Stat(sock); err != nil {
		return nil, asked, because(ErrNoEngine,
			"the Docker engine's socket %s is absent (%v): start dockerd, or set DOCKER_HOST=unix://PATH", sock, unwrapPath(err))
	}
	c, err := inspectOverSocket(ctx, sock, name)
	if err != nil {
		return nil, asked, err
	}
	c.Engine = "docker"
	return c, asked, nil
}

// inspectOverSocket asks GET /containers/NAME/json, the Docker Engine
// API's inspect, which podman's API socket answers in the same shape.
func inspectOverSocket(ctx context.Context, sock, name string) (*Container, error) {
	var c *Container
	path := "/containers/" + url.PathEscape(name) + "/json"
	err := getOverSocket(ctx, sock, path, func(resp *http.Response) (err error) {
		switch resp.StatusCode {
		case http.StatusOK:
			c, err = decodeInspect(resp.Body)
			return err
		case http.StatusNotFound:
			return ErrNotFound
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("GET /containers/%s/json: %s: %s", name, resp.Status, strings.TrimSpace(string(msg)))
	})
	return c, err
}

// getOverSocket sends GET path to the engine API listening on the unix
// socket sock and hands the answer to read, whatever its status; an error
// is the request's or read's.
func getOverSocket(ctx context.Context, sock, path string, read func(*http.Response) error) error {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}
	defer tr.CloseIdleConnections()
	// The host part is ignored: the transport always dials the socket.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://engine"+path, nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return read(resp)
}

// inspect is the part of an inspect answer nsinspect reads. The Docker
// API and podman's compatible one share it; `podman inspect` (libpod's
// shape) adds ImageName and calls the cgroup namespace mode CgroupMode.
type inspect struct {
	ID        string `json:"Id"`
	Name      string
	Image     string // the image's id
	ImageName string // libpod only
	State     struct {
		Status string
		Pid    int
	}
	Config struct {
		Image  string // as the user named it
		Labels map[string]string
	}
	HostConfig struct {
		NetworkMode, PidMode, IpcMode, UTSMode, UsernsMode string
		CgroupnsMode                                       string
		CgroupMode                                         string // libpod only
		Privileged, ReadonlyRootfs                         bool
		CapAdd, CapDrop, SecurityOpt, Binds                []string
		Devices                                            []struct {
			PathOnHost, PathInContainer, CgroupPermissions string
		}
	}
}

func decodeInspect(r io.Reader) (*Container, error) {
	var in inspect
	if err := json.NewDecoder(r).Decode(&in); err != nil {
		return nil, fmt.Errorf("reading the engine's inspect answer: %w", err)
	}
	return in.container(), nil
}

func (in *inspect) container() *Container {
	h := in.HostConfig
	c := &Container{
		ID:     in.ID,
		Name:   strings.TrimPrefix(in.Name, "/"),
		Image:  in.Config.Image,
		Labels: in.Config.Labels,
		Declared: Declared{
			NetworkMode: h.NetworkMode, PidMode: h.PidMode, IpcMode: h.IpcMode,
			UTSMode: h.UTSMode, UsernsMode: h.UsernsMode, CgroupnsMode: h.CgroupnsMode,
			Privileged: h.Privileged, ReadonlyRootfs: h.ReadonlyRootfs,
			CapAdd: capNames(h.CapAdd), CapDrop: capNames(h.CapDrop),
			SecurityOpt: h.SecurityOpt, Binds: h.Binds,
		},
	}
	if c.Image == "" {
		c.Image = in.ImageName
	}
	if c.Declared.CgroupnsMode == "" {
		c.Declared.CgroupnsMode = h.CgroupMode
	}
	for _, d := range h.Devices {
		c.Declared.Devices = append(c.Declared.Devices, d.PathOnHost+":"+d.PathInContainer+":"+d.CgroupPermissions)
	}
	c.Status = in.State.Status
	if c.Status == "running" {
		c.PID = in.State.Pid
	}
	return c
}

// capNames writes capabilities as the kernel names them, CAP_NET_ADMIN:
// docker keeps what the user typed (net_admin, NET_ADMIN), podman adds
// CAP_ in its CLI's answer and drops it in the compatible API's.
func capNames(caps []string) []string {
	var out []string
	for _, c := range caps {
		c = strings.ToUpper(c)
		if c != "ALL" && !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		out = append(out, c)
	}
	return out
}

// unwrapPath drops *os.PathError's "stat PATH: " where the message names
// the path already.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
