package http

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/expt-logger/expt"
)

type sessionStore struct {
	expt.Store
	got *expt.Session
}

func (s *sessionStore) CreateSession(_ context.Context, sess *expt.Session) error {
	s.got = sess
	return nil
}

func TestSessionCookie(t *testing.T) {
	for _, tc := range []struct {
		name   string
		url    string
		header string
		secure bool
	}{
		{"http", "http://expt.test/api/auth/sign-in/email", "", false},
		{"https", "https://expt.test/api/auth/sign-in/email", "", true},
		{"behind a TLS proxy", "http://expt.test/api/auth/sign-in/email", "https", true},
	} {
		st := &sessionStore{}
		s := &Server{store: st, now: time.Now}
		r := httptest.NewRequest("POST", tc.url, nil)
		if tc.header != "" {
			r.Header.Set("X-Forwarded-Proto", tc.header)
		}
		w := httptest.NewRecorder()
		if err := s.startSession(w, r, &expt.User{ID: 7}); err != nil {
			t.Fatal(err)
		}
		cookies := w.Result().Cookies()
		if len(cookies) != 1 {
			t.Fatalf("%s: cookies %v", tc.name, cookies)
		}
		c := cookies[0]
		if c.Name != "expt_session" || !c.HttpOnly || c.Secure != tc.secure || c.MaxAge != 30*24*3600 || c.Path != "/" {
			t.Errorf("%s: cookie %+v", tc.name, c)
		}
		if !strings.Contains(w.Header().Get("Set-Cookie"), "SameSite=Lax") {
			t.Errorf("%s: %s", tc.name, w.Header().Get("Set-Cookie"))
		}
		// Only the token's hash is stored.
		if st.got == nil || st.got.UserID != 7 || string(st.got.TokenHash) != string(expt.HashToken(c.Value)) {
			t.Errorf("%s: stored session %+v", tc.name, st.got)
		}
		if d := time.Until(st.got.ExpiresAt); d < 29*24*time.Hour || d > 31*24*time.Hour {
			t.Errorf("%s: expires in %v", tc.name, d)
		}
	}
}

func TestThrottleWindow(t *testing.T) {
	th := newThrottle(3, time.Minute)
	t0 := time.Unix(1000, 0)
	for i := 0; i < 3; i++ {
		if th.blocked("k", t0) != 0 {
			t.Fatalf("blocked after %d failures", i)
		}
		th.fail("k", t0)
	}
	if wait := th.blocked("k", t0.Add(10*time.Second)); wait != 50*time.Second {
		t.Errorf("wait = %v, want the rest of the window", wait)
	}
	if th.blocked("other", t0) != 0 {
		t.Error("another key is blocked")
	}
	if th.blocked("k", t0.Add(time.Minute)) != 0 {
		t.Error("still blocked after the window")
	}
	th.fail("k", t0)
	th.reset("k")
	if th.blocked("k", t0) != 0 {
		t.Error("blocked after reset")
	}
	if got := retryAfter(1500 * time.Millisecond); got != "2" {
		t.Errorf("retryAfter rounds to %s", got)
	}
}
