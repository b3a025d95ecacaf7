package server

import (
	"context"
	"io"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nsinspect/nsinspect/bpfiter"
	"github.com/nsinspect/nsinspect/discover"
)

// BenchmarkScrape is one /metrics scrape that runs a whole pass (no
// cache): the model with tasks, the containers, their interface counters,
// and the exposition. bench/serve-scrape.sh runs it on the 6,000-process
// fixture; targets: 100 ms with bpf, 1 s with proc.
func BenchmarkScrape(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	for _, name := range []string{"bpf", "proc"} {
		b.Run(name, func(b *testing.B) {
			var src discover.Source = discover.Proc{}
			if name == "bpf" {
				it, err := bpfiter.Load()
				if err != nil {
					b.Skipf("BPF: %v", err)
				}
				defer it.Close()
				src = discover.BPF{Iterators: it}
			}
			sc := &Scanner{Source: src, Kubelet: DefaultKubelet}
			cache := NewCache(sc.Scan, 0)
			m := NewMetrics(cache.Get)
			sc.Metrics = m
			h := promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil).WithContext(context.Background()))
				if w.Code != 200 {
					b.Fatalf("scrape: %d", w.Code)
				}
				io.Copy(io.Discard, w.Body)
			}
		})
	}
}
