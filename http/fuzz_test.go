package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/expt-logger/expt"
	exhttp "github.com/expt-logger/expt/http"
	"github.com/expt-logger/expt/sqlite"
)

// The fuzz targets here send arbitrary bodies and query strings through the
// whole server (routing, auth, decoding, the SQLite store) and check what a
// client may rely on: never a 5xx, every error is {"error": "..."}, and a
// refused write changes nothing (batches are all or nothing).

// fuzzExperiment is fixed so that seeds stay meaningful across runs and the
// experiment can be recreated if a fuzzed DELETE removes it.
const fuzzExperiment = "0b7e1d2c-5a44-4e0c-9a51-6f2d8c3b9e10"

type fuzzServer struct {
	url string
	key string
}

func newFuzzServer(f *testing.F) *fuzzServer {
	f.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "expt.db"))
	if err != nil {
		f.Fatal(err)
	}
	api := exhttp.NewServer(exhttp.Config{
		Store:  db,
		Events: exhttp.NewEventBus(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	srv := httptest.NewServer(api)
	f.Cleanup(func() {
		srv.Close()
		api.Close()
		db.Close()
	})
	ctx := context.Background()
	u := &expt.User{Email: "fuzz@example.com", Name: "fuzz"}
	if err := db.CreateUser(ctx, u); err != nil {
		f.Fatal(err)
	}
	key, hash, err := expt.NewToken(expt.KeyPrefix)
	if err != nil {
		f.Fatal(err)
	}
	k := &expt.APIKey{UserID: u.ID, Name: "fuzz", Prefix: key[:12]}
	if err := db.CreateAPIKey(ctx, k, hash); err != nil {
		f.Fatal(err)
	}
	return &fuzzServer{url: srv.URL, key: key}
}

func (s *fuzzServer) do(t *testing.T, method, path string, body []byte) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		return 0, nil // not a request a client could send
	}
	req.Header.Set("Authorization", "Bearer "+s.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read: %v", method, path, err)
	}
	if resp.StatusCode >= 500 {
		t.Fatalf("%s %s %q: %d %s", method, path, body, resp.StatusCode, b)
	}
	if resp.StatusCode >= 400 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			t.Fatalf("%s %s: %d body %q is not {\"error\": ...}", method, path, resp.StatusCode, b)
		}
	}
	return resp.StatusCode, b
}

// ensureExperiment (re)creates the fixed experiment; creating it again is a no-op.
func (s *fuzzServer) ensureExperiment(t *testing.T) {
	t.Helper()
	if st, b := s.do(t, "POST", "/api/experiments", []byte(`{"id":"`+fuzzExperiment+`","name":"fuzz"}`)); st != 200 {
		t.Fatalf("create experiment: %d %s", st, b)
	}
}

// counts is how many points and rollouts the experiment holds.
func (s *fuzzServer) counts(t *testing.T) (points, rollouts int) {
	t.Helper()
	var m struct {
		Metrics []struct{ Count int } `json:"metrics"`
	}
	_, b := s.do(t, "GET", "/api/experiments/"+fuzzExperiment+"/metrics", nil)
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("metrics: %v %s", err, b)
	}
	for _, x := range m.Metrics {
		points += x.Count
	}
	var st struct {
		Steps []struct{ Count int } `json:"steps"`
	}
	_, b = s.do(t, "GET", "/api/experiments/"+fuzzExperiment+"/rollouts/steps", nil)
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("steps: %v %s", err, b)
	}
	for _, x := range st.Steps {
		rollouts += x.Count
	}
	return points, rollouts
}

// writeRoutes are the endpoints that take a JSON body, by index.
var writeRoutes = []struct{ method, path string }{
	{"POST", "/api/experiments/" + fuzzExperiment + "/scalars"},
	{"POST", "/api/experiments/" + fuzzExperiment + "/rollouts"},
	{"POST", "/api/experiments"},
	{"PUT", "/api/experiments/" + fuzzExperiment},
	{"POST", "/api/experiments/" + fuzzExperiment + "/errors"},
	{"POST", "/api/experiments/" + fuzzExperiment + "/env-logs"},
	{"PUT", "/api/experiments"},
	{"DELETE", "/api/experiments"},
	{"POST", "/api/api-keys"},
	{"DELETE", "/api/api-keys"},
}

func FuzzWriteRequests(f *testing.F) {
	seeds := map[int][]string{
		0: {`{"scalars":[{"step":1,"mode":"train","name":"loss","value":0.5}]}`,
			`{"scalars":[{"step":1,"mode":"train","name":"loss","value":"NaN"},{"step":2,"mode":"train","name":"loss","value":true}]}`},
		1: {`{"rollouts":[{"step":1,"mode":"train","promptText":"2+2?","messages":[{"role":"assistant","content":"4"}],"rewards":{"correct":1}}]}`,
			`{"rollouts":[{"step":1,"mode":"train","promptText":{"role":"user","content":"hi"},"messages":[{"role":"assistant","tool_calls":[{"id":"a"}]}],"rewards":[{"name":"r","value":"Infinity"}]},{"step":-1,"mode":"train"}]}`},
		2: {`{"name":"x","config":{"lr":1e-5}}`, `{"id":"not-a-uuid"}`},
		3: {`{"name":"renamed","status":"complete"}`, `{"config":{"a":{"b":[1,2]}}}`, `{"status":"paused"}`},
		4: {`{"errors":[{"message":"boom","traceback":"..."}]}`},
		5: {`{"logs":[{"stream":"stdout","text":"hello"}]}`},
		6: {`{"id":"` + fuzzExperiment + `","name":"n"}`},
		7: {`{"ids":["00000000-0000-0000-0000-000000000000"]}`, `{"id":5}`},
		8: {`{"name":"k"}`, `{"name":1}`},
		9: {`{"ids":["00000000-0000-0000-0000-000000000000"]}`},
	}
	for i, ss := range seeds {
		for _, s := range ss {
			f.Add(uint8(i), []byte(s))
		}
	}
	s := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := writeRoutes[int(route)%len(writeRoutes)]
		s.ensureExperiment(t)
		points, rollouts := s.counts(t)
		status, resp := s.do(t, r.method, r.path, body)
		if status < 400 {
			return
		}
		if strings.HasSuffix(r.path, "/scalars") || strings.HasSuffix(r.path, "/rollouts") {
			p, ro := s.counts(t)
			if p != points || ro != rollouts {
				t.Fatalf("%s %s %q refused (%d %s) but counts moved: points %d->%d rollouts %d->%d",
					r.method, r.path, body, status, resp, points, p, rollouts, ro)
			}
		}
	})
}

// readRoutes take a fuzzed query string.
var readRoutes = []string{
	"/api/experiments",
	"/api/experiments/" + fuzzExperiment + "/series",
	"/api/experiments/" + fuzzExperiment + "/rollouts",
	"/api/experiments/" + fuzzExperiment + "/rollouts/groups",
	"/api/experiments/" + fuzzExperiment + "/rollouts/summary",
	"/api/experiments/" + fuzzExperiment + "/rewards",
	"/api/experiments/" + fuzzExperiment + "/scalars",
	"/api/experiments/" + fuzzExperiment + "/errors",
	"/api/experiments/" + fuzzExperiment + "/env-logs",
}

func FuzzReadQueries(f *testing.F) {
	for i, q := range []string{
		"q=grpo&sort=latestStep&order=desc&limit=10",
		"mode=train&name=loss&maxPoints=100&from=0&to=10",
		`reward=correct%3C0.5&reward=format%3E%3D1&q=%22answer%22+OR+x*&sort=reward:correct&order=asc`,
		"step=1&mode=train&q=NEAR(a+b)&offset=5",
		"page=2&limit=3",
		"mode=",
		"mode=eval",
		"offset=-1",
		"limit=0",
	} {
		f.Add(uint8(i), q)
	}
	s := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, route uint8, query string) {
		s.ensureExperiment(t)
		if strings.ContainsAny(query, "# \x00\r\n") {
			return // not a query string an HTTP client would send as is
		}
		path := readRoutes[int(route)%len(readRoutes)]
		s.do(t, "GET", path+"?"+query, nil)
	})
}
