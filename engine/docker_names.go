package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// namesTimeout bounds one ask for names: names are a nicety, and an
// engine that hangs must not hang a discovery pass.
const namesTimeout = time.Second

// DockerNames asks the Docker engine for its containers (running or not)
// as full id -> name, without the leading "/" the API puts on names
// (GET /containers/json, over the same socket as Lookup).
func DockerNames(ctx context.Context) (map[string]string, error) {
	sock, ok := DockerSocket()
	if !ok {
		return nil, fmt.Errorf("DOCKER_HOST=%s is not a unix socket", os.Getenv("DOCKER_HOST"))
	}
	if _, err := os.Stat(sock); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, namesTimeout)
	defer cancel()
	var names map[string]string
	err := getOverSocket(ctx, sock, "/containers/json?all=1", func(resp *http.Response) (err error) {
		if resp.StatusCode != http.StatusOK {
			return errors.New(resp.Status)
		}
		names, err = decodeList(resp.Body)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("asking the Docker engine at %s for container names: %w", sock, err)
	}
	return names, nil
}

// container is the part of one GET /containers/json entry we read.
type container struct {
	ID    string   `json:"Id"`
	Names []string `json:"Names"`
}

func decodeList(r io.Reader) (map[string]string, error) {
	var list []container
	if err := json.NewDecoder(r).Decode(&list); err != nil {
		return nil, fmt.Errorf("reading the Docker engine's container list: %w", err)
	}
	names := make(map[string]string, len(list))
	for _, c := range list {
		// A container linked to by others (--link) also lists
		// "/other/alias" names; its own name is the one at the top level.
		for _, n := range c.Names {
			if n = strings.TrimPrefix(n, "/"); n != "" && !strings.Contains(n, "/") {
				names[c.ID] = n
				break
			}
		}
	}
	return names, nil
}
