package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCacheSharesOnePass(t *testing.T) {
	var runs atomic.Int32
	release := make(chan struct{})
	c := NewCache(func() (int, error) {
		runs.Add(1)
		<-release
		return 42, nil
	}, time.Hour)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if v, err := c.Get(context.Background()); v != 42 || err != nil {
				t.Errorf("Get = %v, %v", v, err)
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	if v, _ := c.Get(context.Background()); v != 42 || runs.Load() != 1 {
		t.Errorf("%d passes for 21 requests within the interval, want 1", runs.Load())
	}
}

func TestCacheRunsAgainAfterInterval(t *testing.T) {
	var runs atomic.Int32
	c := NewCache(func() (int32, error) { return runs.Add(1), nil }, 0)
	c.Get(context.Background())
	if v, _ := c.Get(context.Background()); v != 2 {
		t.Errorf("second Get with no interval = %d, want a new pass (2)", v)
	}
}

func TestCachePanicIsAnError(t *testing.T) {
	c := NewCache(func() (int, error) { panic("boom") }, 0)
	if _, err := c.Get(context.Background()); !errors.Is(err, ErrInternal) {
		t.Errorf("err = %v, want ErrInternal", err)
	}
}

func TestCacheWaitEndsWithContext(t *testing.T) {
	c := NewCache(func() (int, error) { time.Sleep(time.Second); return 1, nil }, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := c.Get(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v", err)
	}
}

func TestHandlerErrors(t *testing.T) {
	h := NewHandler(Config{
		Endpoints: []Endpoint{
			{Path: "/api/x", Params: []string{"a"}, Answer: func(_ context.Context, q Query) (any, error) {
				if _, err := q.Require("a"); err != nil {
					return nil, err
				}
				if q.Get("a") == "panic" {
					panic("boom")
				}
				return map[string]string{"a": q.Get("a")}, nil
			}},
		},
		Metrics: http.NotFoundHandler(),
		Health:  func() (any, error) { return "ok", nil },
	})
	for _, c := range []struct {
		method, target string
		status         int
		code           string
	}{
		{"GET", "/api/x?a=1", 200, ""},
		{"HEAD", "/api/x?a=1", 200, ""},
		{"GET", "/api/y", 404, "unknown_path"},
		{"POST", "/api/x?a=1", 405, "method_not_allowed"},
		{"GET", "/api/x", 400, "missing_parameter"},
		{"GET", "/api/x?a=1&a=2", 400, "repeated_parameter"},
		{"GET", "/api/x?b=1", 400, "unknown_parameter"},
		{"GET", "/api/x?a=%", 400, "bad_query"},
		{"GET", "/api/x?a=" + strings.Repeat("x", MaxQuery), 414, "query_too_long"},
		{"GET", "/api/x?a=panic", 500, "internal"},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(c.method, c.target, nil))
		if w.Code != c.status {
			t.Errorf("%s %.40s: %d, want %d", c.method, c.target, w.Code, c.status)
		}
		if c.code == "" {
			continue
		}
		var e struct{ Error Error }
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error.Code != c.code || strings.Contains(w.Body.String(), "goroutine") {
			t.Errorf("%s %.40s: body %q, want code %q", c.method, c.target, w.Body, c.code)
		}
	}
}

func TestKubeletNames(t *testing.T) {
	pods := map[string]podName{}
	for _, n := range []string{"shop_web-7d4f_0f6c1f6e-8d3a-4b7e-9f58-2a1d3c4b5e6f", "bad", "a_b_notauid"} {
		readPodDir(n, pods)
	}
	if len(pods) != 1 || pods["0f6c1f6e-8d3a-4b7e-9f58-2a1d3c4b5e6f"] != (podName{"shop", "web-7d4f"}) {
		t.Errorf("pods %v", pods)
	}
	id := strings.Repeat("ab", 32)
	logs := map[string]containerLog{}
	for _, n := range []string{"web-7d4f_shop_nginx-" + id + ".log", "x_y-" + id + ".log", "web_shop_c-123.log"} {
		readContainerLog(n, logs)
	}
	if len(logs) != 1 || logs[id] != (containerLog{"shop", "web-7d4f", "nginx"}) {
		t.Errorf("logs %v", logs)
	}
}

func TestPodUID(t *testing.T) {
	for path, want := range map[string]string{
		"/kubepods/besteffort/pod0f6c1f6e-8d3a-4b7e-9f58-2a1d3c4b5e6f/" + strings.Repeat("a", 64):                                                                        "0f6c1f6e-8d3a-4b7e-9f58-2a1d3c4b5e6f",
		"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0f6c1f6e_8d3a_4b7e_9f58_2a1d3c4b5e6f.slice/cri-containerd-" + strings.Repeat("a", 64) + ".scope": "0f6c1f6e-8d3a-4b7e-9f58-2a1d3c4b5e6f",
		"/kubepods.slice/kubepods-pod0f6c1f6e_8d3a_4b7e_9f58_2a1d3c4b5e6f.slice/cri-containerd-" + strings.Repeat("a", 64) + ".scope":                                    "0f6c1f6e-8d3a-4b7e-9f58-2a1d3c4b5e6f",
		"/docker/" + strings.Repeat("a", 64): "",
	} {
		if got := podUID(path); got != want {
			t.Errorf("podUID(%s) = %q, want %q", path, got, want)
		}
	}
}
