package http

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/expt-logger/expt"
)

// maxWriteBuckets bounds the limiter's memory. Past it, buckets that have
// refilled (idle callers) are dropped; if none has, a new caller is let
// through untracked rather than refused, so made-up keys (which get 401
// anyway) cannot crowd out real ones.
const maxWriteBuckets = 100_000

// LimitWrites wraps h so that each credential (an API key, in either
// header, or a session cookie) makes at most perSecond writes per second on
// average, in bursts of up to burst; the next write is refused with 429 and
// Retry-After. perSecond 0 turns the limit off; burst 0 means ten seconds'
// worth (at least 1). Reads, the
// sign-in routes (which have their own throttle) and requests without
// credentials are not limited. The buckets live in this process: replicas
// each apply the limit on their own.
func LimitWrites(h http.Handler, perSecond float64, burst int) http.Handler {
	if perSecond <= 0 {
		return h // off
	}
	if burst <= 0 {
		burst = max(1, int(math.Ceil(10*perSecond)))
	}
	return &writeLimiter{next: h, rate: perSecond, burst: float64(burst), now: time.Now, buckets: map[string]*bucket{}}
}

type writeLimiter struct {
	next  http.Handler
	rate  float64 // tokens per second
	burst float64 // bucket size
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket // by SHA-256 of the credential
}

type bucket struct {
	tokens float64
	at     time.Time // when tokens was last brought up to date
}

func (l *writeLimiter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if cred := writeCredential(r); cred != "" {
		if wait := l.take(string(expt.HashToken(cred))); wait > 0 {
			w.Header().Set("X-Content-Type-Options", "nosniff")
			sec := strconv.FormatInt(int64(math.Ceil(wait.Seconds())), 10)
			w.Header().Set("Retry-After", sec)
			writeError(w, expt.Errorf(expt.ETOOMANY, "too many writes with this credential; retry in %s seconds", sec))
			return
		}
	}
	l.next.ServeHTTP(w, r)
}

// writeCredential is what a write is counted against: the API key or
// session it carries, or "" for requests that are not limited.
func writeCredential(r *http.Request) string {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return ""
	}
	if !strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/api/auth/") {
		return ""
	}
	if h := r.Header.Get("Authorization"); h != "" {
		return "key " + h // the scheme stays in: a malformed header is its own (401) caller
	}
	if h := r.Header.Get("x-api-key"); h != "" {
		return "key Bearer " + strings.TrimSpace(h) // the same key as under Authorization
	}
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		return "session " + c.Value
	}
	return ""
}

// take spends one token of key's bucket, or returns how long until one is
// there.
func (l *writeLimiter) take(key string) time.Duration {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxWriteBuckets && !l.prune(now) {
			return 0
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	if dt := now.Sub(b.at).Seconds(); dt > 0 {
		b.tokens = math.Min(l.burst, b.tokens+dt*l.rate)
		b.at = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// prune drops the buckets that are full again, reporting whether any went.
func (l *writeLimiter) prune(now time.Time) bool {
	n := len(l.buckets)
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
	return len(l.buckets) < n
}
