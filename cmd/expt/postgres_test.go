package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/postgres/pgtest"
)

// TestMigratePostgres upgrades an empty database and reports the version;
// a second run finds nothing to do and reports the same.
func TestMigratePostgres(t *testing.T) {
	url := pgtest.URL(t)
	var first string
	for i := range 2 {
		var out strings.Builder
		if err := Run(t.Context(), []string{"migrate", "--db", url}, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		_, version, ok := strings.Cut(out.String(), "schema version ")
		if !ok || strings.TrimSpace(version) == "0" {
			t.Fatalf("migrate printed %q", out.String())
		}
		if i == 0 {
			first = version
		} else if version != first {
			t.Fatalf("second migrate reports version %q, first %q", version, first)
		}
	}
}

// TestKeysAndReplicasOnPostgres makes a key with `expt keys create` on a
// Postgres URL (given by EXPT_DATABASE_URL), then starts two servers on
// the same database: the key, and a browser session made on one replica,
// work on the other, and the live stream on one shows points written
// through the other.
func TestKeysAndReplicasOnPostgres(t *testing.T) {
	url := pgtest.URL(t)
	t.Setenv("EXPT_DATABASE_URL", url)
	var out strings.Builder
	if _, _, err := runWith(t, "ci password\n", "users", "create", "--email", "ci@example.com", "--password-stdin"); err != nil {
		t.Fatal(err)
	}
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

	// Failed sign-ins are counted in the database: guesses spread over both
	// replicas hit the limit together, and the next try on either is 429.
	signIn := func(base, password string) int {
		t.Helper()
		r, err := http.Post(base+"/api/auth/sign-in/email", "application/json",
			strings.NewReader(`{"email":"ann@example.com","password":"`+password+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	for i := range expt.SignInMaxFailures {
		if code := signIn(servers[i%2], "wrong guess"); code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d, want 401", i, code)
		}
	}
	for _, base := range servers {
		if code := signIn(base, "correct horse battery"); code != http.StatusTooManyRequests {
			t.Fatalf("%s after %d guesses across replicas: %d, want 429", base, expt.SignInMaxFailures, code)
		}
	}

	// Live events: watch on B, write through A until an event arrives (the
	// first writes may precede B's LISTEN).
	post := func(path, body string) {
		t.Helper()
		req, _ := http.NewRequest("POST", servers[0]+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("POST %s: %d", path, resp.StatusCode)
		}
	}
	const exp = "5d0c8d9e-7a1b-4c2d-8e3f-001122334455"
	post("/api/experiments", `{"id":"`+exp+`","name":"live"}`)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", servers[1]+"/api/experiments/"+exp+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	stream, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	got := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stream.Body)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "3.25") {
				got <- sc.Text()
				return
			}
		}
	}()
	for step := 0; ; step++ {
		post("/api/experiments/"+exp+"/scalars", fmt.Sprintf(`{"scalars":[{"step":%d,"mode":"train","name":"loss","value":3.25}]}`, step))
		select {
		case <-got:
			return
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("replica B's live stream never showed a point written through replica A")
		}
	}
}
