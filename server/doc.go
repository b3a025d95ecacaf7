// Package server is the HTTP mechanics of `nsinspect serve`: the pass
// cache (one discovery pass shared by concurrent requests, kept for a
// minimum interval), the per-pass derivations (the host's namespaces, the
// containers recognised from their cgroup paths with kubelet's pod names,
// their interface counters through prometheus/procfs), request validation
// with JSON errors, and the Prometheus registry and collectors.
//
// The JSON answers themselves are the CLI's (cmd/nsinspect builds them);
// this package knows nothing of their shape. See docs/serve.md for the
// endpoints, the metric names and how their cardinality stays bounded.
package server
