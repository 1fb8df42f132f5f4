package http

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

// The bucket arithmetic, on a clock the test moves.
func TestWriteLimiterRefill(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := LimitWrites(http.NotFoundHandler(), 2, 2).(*writeLimiter)
	l.now = func() time.Time { return now }

	for i := 0; i < 2; i++ {
		if w := l.take("k"); w != 0 {
			t.Fatalf("burst write %d waits %v", i, w)
		}
	}
	if w := l.take("k"); w != 500*time.Millisecond {
		t.Errorf("3rd write waits %v, want 500ms at 2/s", w)
	}
	now = now.Add(250 * time.Millisecond)
	if w := l.take("k"); w != 250*time.Millisecond {
		t.Errorf("after 250ms: waits %v, want 250ms", w)
	}
	now = now.Add(250 * time.Millisecond)
	if w := l.take("k"); w != 0 {
		t.Errorf("after 500ms: waits %v", w)
	}
	// A long pause refills only up to the burst.
	now = now.Add(time.Hour)
	for i := 0; i < 2; i++ {
		if w := l.take("k"); w != 0 {
			t.Errorf("after an hour, write %d waits %v", i, w)
		}
	}
	if w := l.take("k"); w == 0 {
		t.Error("the burst grew past 2")
	}
	if w := l.take("other"); w != 0 {
		t.Errorf("another key waits %v", w)
	}
}

func TestWriteLimiterBoundedMemory(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := LimitWrites(http.NotFoundHandler(), 1, 1).(*writeLimiter)
	l.now = func() time.Time { return now }
	for i := 0; i < maxWriteBuckets; i++ {
		l.buckets[strconv.Itoa(i)] = &bucket{tokens: 0, at: now}
	}
	// Every bucket is empty (busy): a new caller passes untracked.
	if w := l.take("new"); w != 0 || len(l.buckets) != maxWriteBuckets {
		t.Fatalf("full and busy: wait %v, %d buckets", w, len(l.buckets))
	}
	// A second later they have refilled: the next new caller prunes them.
	now = now.Add(time.Second)
	if w := l.take("new"); w != 0 || len(l.buckets) != 1 {
		t.Errorf("full and idle: wait %v, %d buckets, want 1", w, len(l.buckets))
	}
	if w := l.take("new"); w == 0 {
		t.Error("the new caller's bucket is not kept")
	}
}

func TestWriteCredential(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		hdr          map[string]string
		want         string
	}{
		{"GET", "/api/experiments", map[string]string{"Authorization": "Bearer k"}, ""},
		{"POST", "/api/auth/sign-in/email", map[string]string{"Cookie": "expt_session=s"}, ""},
		{"POST", "/api/experiments", nil, ""},
		{"POST", "/index.html", map[string]string{"Authorization": "Bearer k"}, ""},
		{"POST", "/api/experiments", map[string]string{"Authorization": "Bearer k"}, "key Bearer k"},
		{"DELETE", "/api/api-keys", map[string]string{"x-api-key": " k "}, "key Bearer k"},
		{"PUT", "/api/experiments/x", map[string]string{"Cookie": "expt_session=s"}, "session s"},
		// A key wins over a cookie, as in authenticate.
		{"PUT", "/api/experiments/x", map[string]string{"Cookie": "expt_session=s", "x-api-key": "k"}, "key Bearer k"},
	} {
		r, _ := http.NewRequest(tc.method, "http://h"+tc.path, nil)
		for k, v := range tc.hdr {
			r.Header.Set(k, v)
		}
		if got := writeCredential(r); got != tc.want {
			t.Errorf("%s %s %v: %q, want %q", tc.method, tc.path, tc.hdr, got, tc.want)
		}
	}
}
