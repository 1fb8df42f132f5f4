package http

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// Throttle limits failed sign-ins per key (email and client address). The
// in-process one below serves a single server; replicas behind a load
// balancer need one they share (postgres.SignInThrottle), or each would
// allow its own 10 guesses.
type Throttle interface {
	// Blocked returns how long key must wait, 0 when it may try now.
	Blocked(ctx context.Context, key string, now time.Time) (time.Duration, error)
	// Fail counts a failed attempt.
	Fail(ctx context.Context, key string, now time.Time) error
	// Reset forgets key's failures after a successful sign-in.
	Reset(ctx context.Context, key string) error
}

// Sign-in limits: 10 failures per email and address in 15 minutes.
const (
	SignInMaxFailures = 10
	SignInWindow      = 15 * time.Minute
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
