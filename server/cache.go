package server

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Cache runs at most one pass at a time and keeps its result for
// MinInterval after it ends: concurrent requests (two Prometheus replicas,
// a dashboard and a scrape) wait for the pass already running instead of
// starting their own, and requests within MinInterval of the last pass
// get it as it was, like golang.org/x/sync/singleflight with a memory.
//
// A failed pass is kept for MinInterval too, so that a failing source is
// not hammered by every request.
type Cache[T any] struct {
	run         func() (T, error)
	minInterval time.Duration
	now         func() time.Time

	mu   sync.Mutex
	last *result[T] // the newest finished pass; nil before the first
	cur  *result[T] // the pass running, nil when none
}

type result[T any] struct {
	done  chan struct{}
	val   T
	err   error
	ended time.Time
}

// NewCache returns a cache over run. run must be safe to call again
// after it returned; the cache never calls it twice at once.
func NewCache[T any](run func() (T, error), minInterval time.Duration) *Cache[T] {
	return &Cache[T]{run: run, minInterval: minInterval, now: time.Now}
}

// Get returns the last pass if it ended less than MinInterval ago, else
// the result of the pass running or of a new one. The pass itself runs
// on its own goroutine and is not cancelled with ctx: other requests may
// be waiting for it, and its result serves the next ones. ctx only ends
// this caller's wait.
func (c *Cache[T]) Get(ctx context.Context) (T, error) {
	c.mu.Lock()
	if l := c.last; l != nil && c.now().Sub(l.ended) < c.minInterval {
		c.mu.Unlock()
		return l.val, l.err
	}
	r := c.cur
	if r == nil {
		r = &result[T]{done: make(chan struct{})}
		c.cur = r
		go c.do(r)
	}
	c.mu.Unlock()
	select {
	case <-r.done:
		return r.val, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// Last returns the newest finished pass without starting one; ok is false
// before the first pass has ended.
func (c *Cache[T]) Last() (val T, err error, ended time.Time, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last == nil {
		return val, nil, time.Time{}, false
	}
	return c.last.val, c.last.err, c.last.ended, true
}

// Wait blocks until no pass runs, for a clean shutdown.
func (c *Cache[T]) Wait() {
	c.mu.Lock()
	r := c.cur
	c.mu.Unlock()
	if r != nil {
		<-r.done
	}
}

func (c *Cache[T]) do(r *result[T]) {
	r.val, r.err = c.safeRun()
	c.mu.Lock()
	r.ended = c.now()
	c.last, c.cur = r, nil
	c.mu.Unlock()
	close(r.done)
}

// safeRun turns a panic of the pass into an error: the pass runs on its
// own goroutine, where a panic would end the server.
func (c *Cache[T]) safeRun() (val T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: the discovery pass panicked: %v", ErrInternal, p)
		}
	}()
	return c.run()
}
