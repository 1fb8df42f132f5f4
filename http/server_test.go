package http_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/expt-logger/expt"
	exhttp "github.com/expt-logger/expt/http"
	"github.com/expt-logger/expt/postgres"
	"github.com/expt-logger/expt/postgres/pgtest"
	"github.com/expt-logger/expt/sqlite"
)

// env is a running API server over a real SQLite database.
type env struct {
	t      *testing.T
	srv    *httptest.Server
	api    *exhttp.Server
	store  expt.Store
	events expt.EventBus
}

// testStore names the store the HTTP tests run on: SQLite by default,
// PostgreSQL with EXPT_TEST_STORE=postgres (make test runs both; the server
// comes from EXPT_TEST_POSTGRES_URL, see postgres/pgtest).
var testStore = os.Getenv("EXPT_TEST_STORE")

// openTestStore opens an empty store of the kind under test and, on
// PostgreSQL, the LISTEN/NOTIFY bus that serve uses there.
func openTestStore(t *testing.T) (expt.Store, expt.EventBus) {
	t.Helper()
	ctx := context.Background()
	switch testStore {
	case "", "sqlite":
		db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "expt.db"))
		if err != nil {
			t.Fatal(err)
		}
		return db, exhttp.NewEventBus()
	case "postgres":
		db, err := postgres.Open(ctx, pgtest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		bus, err := db.NewEventBus(ctx, exhttp.NewEventBus())
		if err != nil {
			db.Close()
			t.Fatal(err)
		}
		t.Cleanup(func() { bus.Close() })
		return db, bus
	}
	t.Fatalf("EXPT_TEST_STORE=%q: want sqlite or postgres", testStore)
	return nil, nil
}

func newEnv(t *testing.T, cfg exhttp.Config) *env {
	t.Helper()
	db, bus := openTestStore(t)
	cfg.Store = db
	if cfg.Events == nil {
		cfg.Events = bus
	}
	cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	api := exhttp.NewServer(cfg)
	srv := httptest.NewServer(api)
	t.Cleanup(func() {
		api.Close()
		srv.Close()
		db.Close()
	})
	return &env{t: t, srv: srv, api: api, store: db, events: cfg.Events}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// client calls the API with one way of authenticating.
type client struct {
	e       *env
	http    *http.Client
	headers map[string]string
}

func (e *env) anon() *client {
	return &client{e: e, http: &http.Client{}, headers: map[string]string{}}
}

func (e *env) withKey(header, key string) *client {
	c := e.anon()
	if header == "Authorization" {
		c.headers[header] = "Bearer " + key
	} else {
		c.headers[header] = key
	}
	return c
}

// browser is a client with a cookie jar, as the web UI is.
func (e *env) browser() *client {
	jar, _ := cookiejar.New(nil)
	c := e.anon()
	c.http = &http.Client{Jar: jar}
	return c
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) error() string {
	var e struct {
		Error string `json:"error"`
	}
	json.Unmarshal(r.body, &e)
	return e.Error
}

// raw sends body (already encoded) with extra headers.
func (c *client) raw(method, path string, body []byte, hdr map[string]string) response {
	c.e.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, c.e.srv.URL+path, rd)
	if err != nil {
		c.e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.e.t.Fatal(err)
	}
	if resp.StatusCode >= 300 {
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			c.e.t.Errorf("%s %s: %d with Content-Type %q, want JSON", method, path, resp.StatusCode, ct)
		}
		var e struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal(b, &e); err != nil || e.Error == "" {
			c.e.t.Errorf("%s %s: %d body %q is not {\"error\": ...}", method, path, resp.StatusCode, b)
		}
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		c.e.t.Errorf("%s %s: no X-Content-Type-Options", method, path)
	}
	return response{resp.StatusCode, resp.Header, b}
}

// do sends v as JSON (nil: no body).
func (c *client) do(method, path string, v any) response {
	c.e.t.Helper()
	var body []byte
	if v != nil {
		var err error
		if body, err = json.Marshal(v); err != nil {
			c.e.t.Fatal(err)
		}
	}
	return c.raw(method, path, body, nil)
}

// must sends v, checks the status and decodes the answer into out.
func (c *client) must(status int, method, path string, v, out any) response {
	c.e.t.Helper()
	r := c.do(method, path, v)
	if r.status != status {
		c.e.t.Fatalf("%s %s: %d %s, want %d", method, path, r.status, r.body, status)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			c.e.t.Fatalf("%s %s: decode %s: %v", method, path, r.body, err)
		}
	}
	return r
}

// user signs a new user up in a browser and returns it and an API key.
func (e *env) user(email string) (*client, string) {
	e.t.Helper()
	b := e.browser()
	b.must(200, "POST", "/api/auth/sign-up/email", map[string]string{"email": email, "password": "correct horse", "name": "Test"}, nil)
	var key struct {
		Key string `json:"key"`
		ID  string `json:"id"`
	}
	b.must(201, "POST", "/api/api-keys", map[string]string{"name": "test"}, &key)
	if !strings.HasPrefix(key.Key, expt.KeyPrefix) || key.ID == "" {
		e.t.Fatalf("created key = %+v", key)
	}
	return b, key.Key
}

func (c *client) newExperiment(body map[string]any) string {
	c.e.t.Helper()
	var out struct {
		ExperimentID string `json:"experimentId"`
	}
	c.must(200, "POST", "/api/experiments", body, &out)
	return out.ExperimentID
}

func gz(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// newLoopback serves h on 127.0.0.1 for a benchmark.
func newLoopback(b *testing.B, h http.Handler) string {
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	return srv.URL
}
