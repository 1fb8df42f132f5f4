package http

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/expt-logger/expt"
)

func get(t *testing.T, h http.Handler, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec.Result()
}

func TestUI(t *testing.T) {
	ui := fstest.MapFS{
		"index.html":           {Data: []byte("<html>app</html>")},
		"assets/app-1a2b3c.js": {Data: []byte("console.log(1)")},
		"favicon.svg":          {Data: []byte("<svg/>")},
	}
	s := NewServer(Config{UI: ui})
	for _, tc := range []struct {
		path, body, cache string
		status            int
	}{
		{"/", "<html>app</html>", "no-cache", 200},
		{"/experiments/0190c5a6-0000-7000-8000-000000000000", "<html>app</html>", "no-cache", 200},
		{"/index.html", "<html>app</html>", "no-cache", 200},
		{"/assets/app-1a2b3c.js", "console.log(1)", "public, max-age=31536000, immutable", 200},
		{"/favicon.svg", "<svg/>", "", 200},
		{"/assets/gone-000.js", "", "", 404},
	} {
		resp := get(t, s, tc.path)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != tc.status || tc.body != "" && string(body) != tc.body {
			t.Errorf("GET %s: %d %q", tc.path, resp.StatusCode, body)
		}
		if tc.cache != "" && resp.Header.Get("Cache-Control") != tc.cache {
			t.Errorf("GET %s: Cache-Control %q, want %q", tc.path, resp.Header.Get("Cache-Control"), tc.cache)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("GET %s: CSP %q", tc.path, csp)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no nosniff", tc.path)
		}
	}

	// /api never falls back to the page: unknown API paths are JSON 404s.
	resp := get(t, s, "/api/nope")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 404 || !strings.HasPrefix(string(body), `{"error":`) || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("GET /api/nope: %d %s", resp.StatusCode, body)
	}
	if resp.Header.Get("Content-Security-Policy") != "" {
		t.Error("API response carries the UI's CSP")
	}
	// A known path with the wrong method is a 405 naming the right ones.
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("PATCH", "/api/experiments/0190c5a6-0000-7000-8000-000000000000", nil))
	if rec.Code != 405 || rec.Header().Get("Allow") != "GET, DELETE, PUT" || !strings.Contains(rec.Body.String(), "use GET, DELETE, PUT") {
		t.Errorf("PATCH experiment: %d Allow %q %s", rec.Code, rec.Header().Get("Allow"), rec.Body)
	}

	// Without a built UI, pages get a short placeholder.
	resp = get(t, NewServer(Config{}), "/experiments/x")
	body, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "/api") {
		t.Errorf("placeholder: %d %s", resp.StatusCode, body)
	}
}

// failingStore answers Ping with an internal error or a panic.
type failingStore struct {
	expt.Store
	panic bool
}

func (failingStore) StorageFull(error) bool { return false }

func (f failingStore) Ping(context.Context) error {
	if f.panic {
		panic("boom")
	}
	return errors.New("disk on fire at /secret/path")
}

func TestInternalErrorsAreLoggedNotShown(t *testing.T) {
	for _, panics := range []bool{false, true} {
		var logs bytes.Buffer
		s := NewServer(Config{Store: failingStore{panic: panics}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		resp := get(t, s, "/api/health")
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 500 || strings.TrimSpace(string(body)) != `{"error":"internal error"}` {
			t.Errorf("panic=%v: %d %s", panics, resp.StatusCode, body)
		}
		want := "disk on fire"
		if panics {
			want = "boom"
		}
		if !strings.Contains(logs.String(), want) {
			t.Errorf("panic=%v: log %q lacks %q", panics, logs.String(), want)
		}
	}
}
