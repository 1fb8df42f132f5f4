package http

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// throttle counts failed sign-ins per email+IP in a fixed window, so that
// guessing a password costs 10 tries per 15 minutes per address.
type throttle struct {
	max    int
	window time.Duration

	mu      sync.Mutex
	entries map[string]*throttleEntry
}

type throttleEntry struct {
	failures int
	start    time.Time
}

func newThrottle(max int, window time.Duration) *throttle {
	return &throttle{max: max, window: window, entries: make(map[string]*throttleEntry)}
}

// Blocked implements Throttle.
func (t *throttle) Blocked(_ context.Context, key string, now time.Time) (time.Duration, error) {
	return t.blocked(key, now), nil
}

// Fail implements Throttle.
func (t *throttle) Fail(_ context.Context, key string, now time.Time) error {
	t.fail(key, now)
	return nil
}

// Reset implements Throttle.
func (t *throttle) Reset(_ context.Context, key string) error {
	t.reset(key)
	return nil
}

// blocked returns how long key must wait, 0 when it may try now.
func (t *throttle) blocked(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.entries[key]
	if e == nil {
		return 0
	}
	if end := e.start.Add(t.window); !now.Before(end) {
		delete(t.entries, key)
		return 0
	} else if e.failures >= t.max {
		return end.Sub(now)
	}
	return 0
}

func (t *throttle) fail(key string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.entries) > 100_000 {
		// Bound memory under a spray of addresses: forget expired windows.
		for k, e := range t.entries {
			if !now.Before(e.start.Add(t.window)) {
				delete(t.entries, k)
			}
		}
	}
	e := t.entries[key]
	if e == nil || !now.Before(e.start.Add(t.window)) {
		e = &throttleEntry{start: now}
		t.entries[key] = e
	}
	e.failures++
}

func (t *throttle) reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.entries, key)
}

// retryAfter formats d as whole seconds, rounded up, for Retry-After.
func retryAfter(d time.Duration) string {
	sec := int64((d + time.Second - 1) / time.Second)
	return strconv.FormatInt(sec, 10)
}
