package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/expt-logger/expt/postgres/pgtest"
)

// TestMigratePostgres upgrades an empty database and reports the version;
// a second run finds nothing to do and reports the same.
func TestMigratePostgres(t *testing.T) {
	url := pgtest.URL(t)
	for range 2 {
		var out strings.Builder
		if err := Run(t.Context(), []string{"migrate", "--db", url}, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "schema version 1") {
			t.Fatalf("migrate printed %q", out.String())
		}
	}
}

// TestKeysAndReplicasOnPostgres makes a key with `expt keys create` on a
// Postgres URL (given by EXPT_DATABASE_URL), then starts two servers on
// the same database: the key, and a browser session made on one replica,
// work on the other.
func TestKeysAndReplicasOnPostgres(t *testing.T) {
	url := pgtest.URL(t)
	t.Setenv("EXPT_DATABASE_URL", url)
	var out strings.Builder
	if err := Run(t.Context(), []string{"keys", "create", "--name", "ci"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(out.String())
	out.Reset()
	if err := Run(t.Context(), []string{"keys", "list"}, &out, io.Discard); err != nil || !strings.Contains(out.String(), "ci") {
		t.Fatalf("keys list = %q, %v", out.String(), err)
	}

	servers := make([]string, 2)
	for i := range servers {
		c, err := parseServeFlags([]string{"--addr", "127.0.0.1:0"}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		s := &server{cfg: c, logger: newLogger("text", io.Discard)}
		if err := s.open(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.close() })
		servers[i] = "http://" + s.ln.Addr().String()
	}
	get := func(base, path string, set func(*http.Request)) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		set(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, base := range servers {
		if r := get(base, "/api/me", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+key) }); r.StatusCode != 200 {
			t.Fatalf("%s: key from `expt keys create` answered %d", base, r.StatusCode)
		}
	}
	resp, err := http.Post(servers[0]+"/api/auth/sign-up/email", "application/json",
		strings.NewReader(`{"email":"ann@example.com","password":"correct horse battery"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 || len(resp.Cookies()) == 0 {
		t.Fatalf("sign-up on replica A: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	cookies := resp.Cookies()
	if r := get(servers[1], "/api/me", func(r *http.Request) {
		for _, c := range cookies {
			r.AddCookie(c)
		}
	}); r.StatusCode != 200 {
		t.Fatalf("session made on replica A answered %d on replica B", r.StatusCode)
	}
}
