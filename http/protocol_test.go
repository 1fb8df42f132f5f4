package http_test

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/expt-logger/expt"
	exhttp "github.com/expt-logger/expt/http"
)

// TestOriginalProtocol walks through what the published client does.
func TestOriginalProtocol(t *testing.T) {
	e := newEnv(t, exhttp.Config{PublicURL: "https://expt.example"})
	if r := e.anon().do("GET", "/api/health", nil); r.status != 200 {
		t.Fatalf("health: %d %s", r.status, r.body)
	}
	browser, key := e.user("ada@example.com")

	// Signing in again from a fresh browser works and sets the session cookie.
	b2 := e.browser()
	r := b2.must(200, "POST", "/api/auth/sign-in/email", map[string]string{"email": "Ada@Example.com", "password": "correct horse"}, nil)
	cookie := r.header.Get("Set-Cookie")
	for _, want := range []string{"expt_session=", "HttpOnly", "SameSite=Lax", "Max-Age=2592000", "Path=/"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("Set-Cookie %q lacks %q", cookie, want)
		}
	}
	if strings.Contains(cookie, "Secure") {
		t.Errorf("Set-Cookie %q is Secure over plain http", cookie)
	}
	var me struct {
		User struct {
			Email string `json:"email"`
		} `json:"user"`
	}
	b2.must(200, "GET", "/api/me", nil, &me)
	if me.User.Email != "ada@example.com" {
		t.Errorf("me = %+v", me)
	}
	browser.must(200, "GET", "/api/me", nil, nil)

	c := e.withKey("Authorization", key)
	var created struct {
		ExperimentID string `json:"experimentId"`
		Name         string `json:"name"`
		Status       string `json:"status"`
		Created      bool   `json:"created"`
		URL          string `json:"url"`
	}
	c.must(200, "POST", "/api/experiments", map[string]any{"config": map[string]any{"lr": 0.001}, "jobId": "job-7"}, &created)
	if !regexp.MustCompile(`^[a-z]+-[a-z]+-\d+$`).MatchString(created.Name) {
		t.Errorf("made-up name %q", created.Name)
	}
	if created.Status != "active" || !created.Created || created.URL != "https://expt.example/experiments/"+created.ExperimentID {
		t.Errorf("created = %+v", created)
	}
	exp := "/api/experiments/" + created.ExperimentID

	c.must(200, "POST", exp+"/scalars", map[string]any{"scalars": []map[string]any{
		{"step": 1, "mode": "train", "name": "loss", "value": 2.5},
		{"step": 2, "mode": "train", "name": "loss", "value": 1.5},
		{"step": 1, "mode": "eval", "name": "acc", "value": 0.25},
	}}, nil)
	old := e.withKey("x-api-key", key)
	old.must(200, "POST", exp+"/scalars", map[string]any{"scalars": []map[string]any{
		{"step": 3, "mode": "train", "type": "kl", "value": 0.125},
	}}, nil)
	var wrote struct {
		Accepted int     `json:"accepted"`
		IDs      []int64 `json:"ids"`
		Replayed bool    `json:"replayed"`
	}
	c.must(200, "POST", exp+"/rollouts", map[string]any{"rollouts": []map[string]any{{
		"step": 7, "mode": "train", "promptText": "What is 2+2?",
		"messages": []map[string]any{{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "4"}},
		"rewards":  []map[string]any{{"name": "correct", "value": 1.0}},
	}}}, &wrote)
	if wrote.Accepted != 1 || len(wrote.IDs) != 1 || wrote.Replayed {
		t.Errorf("rollout write = %+v", wrote)
	}

	c.must(200, "PUT", exp, map[string]any{"config": map[string]any{"lr": 0.002, "seed": 3}}, nil)
	c.must(200, "PUT", exp, map[string]any{"status": "complete"}, nil)
	var got struct {
		ID     string         `json:"id"`
		Name   string         `json:"name"`
		Status string         `json:"status"`
		Config map[string]any `json:"config"`
		JobID  string         `json:"jobId"`
	}
	c.must(200, "GET", exp, nil, &got)
	if got.ID != created.ExperimentID || got.Name != created.Name || got.Status != "complete" || got.JobID != "job-7" ||
		!reflect.DeepEqual(got.Config, map[string]any{"lr": 0.002, "seed": 3.0}) {
		t.Errorf("GET experiment = %+v", got)
	}
	// The older client's PUT carries the id in the body.
	old.must(200, "PUT", "/api/experiments", map[string]any{"id": created.ExperimentID, "status": "active", "name": "renamed"}, nil)
	var details struct {
		Name       string `json:"name"`
		Status     string `json:"status"`
		LatestStep *int64 `json:"latestStep"`
		Metrics    []struct {
			Mode, Name string
			Count      int64
		} `json:"metrics"`
	}
	c.must(200, "GET", exp+"/details", nil, &details)
	if details.Name != "renamed" || details.Status != "active" || details.LatestStep == nil || *details.LatestStep != 7 || len(details.Metrics) != 3 {
		t.Errorf("details = %+v", details)
	}

	var train map[string][]struct {
		Step  int64   `json:"step"`
		Value float64 `json:"value"`
	}
	c.must(200, "GET", exp+"/scalars?mode=train", nil, &train)
	if len(train["loss"]) != 2 || train["loss"][1] != (struct {
		Step  int64   `json:"step"`
		Value float64 `json:"value"`
	}{2, 1.5}) || len(train["kl"]) != 1 || train["acc"] != nil {
		t.Errorf("train scalars = %+v", train)
	}
	var summary struct {
		Groups []struct {
			PromptText string `json:"promptText"`
			Count      int    `json:"count"`
		} `json:"groups"`
		Page int `json:"page"`
	}
	c.must(200, "GET", exp+"/rollouts/summary?mode=train&page=1&limit=10", nil, &summary)
	if len(summary.Groups) != 1 || summary.Groups[0].Count != 1 || summary.Page != 1 {
		t.Errorf("summary = %+v", summary)
	}
	var one struct {
		Messages []map[string]any `json:"messages"`
	}
	c.must(200, "GET", fmt.Sprintf("%s/rollouts/%d", exp, wrote.IDs[0]), nil, &one)
	if len(one.Messages) != 2 || one.Messages[1]["content"] != "4" {
		t.Errorf("rollout = %+v", one)
	}

	var list struct {
		Experiments []struct{ ID string } `json:"experiments"`
		Total       int                   `json:"total"`
	}
	c.must(200, "GET", "/api/experiments?sort=name&order=asc", nil, &list)
	if list.Total != 1 || len(list.Experiments) != 1 {
		t.Errorf("list = %+v", list)
	}

	var deleted struct {
		DeletedCount int `json:"deletedCount"`
	}
	c.must(200, "DELETE", "/api/experiments", map[string]any{"ids": []string{created.ExperimentID, "not-a-uuid"}}, &deleted)
	if deleted.DeletedCount != 1 {
		t.Errorf("deletedCount = %d", deleted.DeletedCount)
	}
	if r := c.do("GET", exp, nil); r.status != 404 {
		t.Errorf("GET deleted: %d", r.status)
	}

	browser.must(200, "POST", "/api/auth/sign-out", map[string]any{}, nil)
	if r := browser.do("GET", "/api/me", nil); r.status != 401 {
		t.Errorf("after sign-out: %d", r.status)
	}
}

func TestCreateExperimentWithClientID(t *testing.T) {
	e := newEnv(t, exhttp.Config{})
	_, keyA := e.user("a@example.com")
	_, keyB := e.user("b@example.com")
	a, b := e.withKey("Authorization", keyA), e.withKey("Authorization", keyB)
	id := "0190c5a6-1e2f-7a3b-8c4d-5e6f7a8b9c0d"
	var out struct {
		ExperimentID string `json:"experimentId"`
		Name         string `json:"name"`
		Created      bool   `json:"created"`
	}
	a.must(200, "POST", "/api/experiments", map[string]any{"id": id, "name": "first"}, &out)
	if out.ExperimentID != id || !out.Created || out.Name != "first" {
		t.Errorf("create = %+v", out)
	}
	a.must(200, "POST", "/api/experiments", map[string]any{"id": id, "name": "second"}, &out)
	if out.Created || out.Name != "first" {
		t.Errorf("create again = %+v, want created=false and nothing changed", out)
	}
	if r := b.do("POST", "/api/experiments", map[string]any{"id": id}); r.status != 409 {
		t.Errorf("other user's id: %d %s", r.status, r.body)
	}
	for _, body := range []map[string]any{
		{"id": "123"}, {"id": 5}, {"config": []int{1}}, {"config": "x"}, {"name": 3}, {"extra": true},
	} {
		if r := a.do("POST", "/api/experiments", body); r.status != 400 {
			t.Errorf("create %v: %d %s", body, r.status, r.body)
		}
	}
	exp := "/api/experiments/" + id
	for _, body := range []map[string]any{
		{"status": "running"}, {"name": ""}, {"config": []int{}}, {"config": nil}, {"id": "0190c5a6-1e2f-7a3b-8c4d-000000000000"},
	} {
		if r := a.do("PUT", exp, body); r.status != 400 {
			t.Errorf("PUT %v: %d %s", body, r.status, r.body)
		}
	}
	if r := a.do("PUT", "/api/experiments", map[string]any{"status": "complete"}); r.status != 400 || !strings.Contains(r.error(), "id") {
		t.Errorf("legacy PUT without id: %d %s", r.status, r.body)
	}
}

func TestScalarBatches(t *testing.T) {
	e := newEnv(t, exhttp.Config{MaxBodyBytes: 64 << 10})
	_, key := e.user("a@example.com")
	c := e.withKey("Authorization", key)
	exp := "/api/experiments/" + c.newExperiment(map[string]any{"name": "x"})

	// All or nothing: one bad point rejects the batch and names itself.
	r := c.raw("POST", exp+"/scalars", []byte(`{"scalars":[
		{"step":1,"mode":"train","name":"loss","value":1},
		{"step":2,"mode":"train","name":"loss","value":2},
		{"step":3,"mode":"train","name":"loss","value":true}]}`), nil)
	if r.status != 400 || r.error() != "scalars[2].value: booleans are not numbers" {
		t.Errorf("bad batch: %d %s", r.status, r.body)
	}
	var metrics struct {
		Metrics []any `json:"metrics"`
	}
	c.must(200, "GET", exp+"/metrics", nil, &metrics)
	if len(metrics.Metrics) != 0 {
		t.Errorf("a rejected batch left metrics %v", metrics.Metrics)
	}
	for body, want := range map[string]string{
		`{"scalars":[{"step":-1,"mode":"train","name":"a","value":1}]}`:  "scalars[0].step",
		`{"scalars":[{"step":1,"mode":"train","name":"","value":1}]}`:    "scalars[0].name",
		`{"scalars":[{"step":1,"mode":"train","name":"a","value":"x"}]}`: "scalars[0].value",
		`{"scalars":[`: "malformed JSON",
		"{\"scalars\":[{\"step\":1,\"mode\":\"train\",\"name\":\"\xff\",\"value\":1}]}": "UTF-8",
	} {
		if r := c.raw("POST", exp+"/scalars", []byte(body), nil); r.status != 400 || !strings.Contains(r.error(), want) {
			t.Errorf("%s: %d %s, want 400 naming %s", body, r.status, r.body, want)
		}
	}

	// NaN and infinities go in and come back as strings.
	c.raw("POST", exp+"/scalars", gz(t, []byte(`{"scalars":[
		{"step":1,"mode":"train","name":"loss","value":"NaN"},
		{"step":2,"mode":"train","name":"loss","value":"Infinity"},
		{"step":3,"mode":"train","name":"loss","value":"-Infinity"},
		{"step":4,"mode":"train","name":"loss","value":0.5,"ts":1700000000.5}]}`)), map[string]string{"Content-Encoding": "gzip"})
	var train map[string][]struct {
		Step  int64 `json:"step"`
		Value any   `json:"value"`
	}
	c.must(200, "GET", exp+"/scalars?mode=train", nil, &train)
	var vals []any
	for _, p := range train["loss"] {
		vals = append(vals, p.Value)
	}
	if !reflect.DeepEqual(vals, []any{"NaN", "Infinity", "-Infinity", 0.5}) {
		t.Errorf("round trip = %v", vals)
	}
	var series struct {
		Step    []int64 `json:"step"`
		Value   []any   `json:"value"`
		Total   int     `json:"total"`
		MinStep []int64 `json:"minStep"`
		MaxStep []int64 `json:"maxStep"`
	}
	c.must(200, "GET", exp+"/series?mode=train&name=loss", nil, &series)
	if series.Total != 4 || !reflect.DeepEqual(series.Value, []any{"NaN", "Infinity", "-Infinity", 0.5}) {
		t.Errorf("series = %+v", series)
	}
	// Every column the charts read is there under its documented name.
	if len(series.MinStep) != 4 || len(series.MaxStep) != 4 {
		t.Errorf("series minStep/maxStep columns = %v / %v, want 4 each", series.MinStep, series.MaxStep)
	}
	if r := c.do("GET", exp+"/series?mode=train", nil); r.status != 400 || !strings.HasPrefix(r.error(), "name") {
		t.Errorf("series without name: %d %s", r.status, r.body)
	}

	// The limit is on the decompressed size, and the message says what it is.
	big := []byte(`{"scalars":[` + strings.Repeat(`{"step":1,"mode":"train","name":"a","value":1},`, 2000) + `{"step":1,"mode":"train","name":"a","value":1}]}`)
	for name, hdr := range map[string]map[string]string{"plain": nil, "gzip": {"Content-Encoding": "gzip"}} {
		body := big
		if hdr != nil {
			body = gz(t, big)
		}
		r := c.raw("POST", exp+"/scalars", body, hdr)
		if r.status != 413 || r.error() != "request body exceeds the 65536-byte limit" {
			t.Errorf("%s over the limit: %d %s", name, r.status, r.body)
		}
	}
}

func TestIdempotentRetries(t *testing.T) {
	e := newEnv(t, exhttp.Config{})
	_, key := e.user("a@example.com")
	c := e.withKey("Authorization", key)
	exp := "/api/experiments/" + c.newExperiment(nil)

	scalars := []byte(`{"scalars":[{"step":1,"mode":"train","name":"loss","value":1}]}`)
	rollouts := []byte(`{"rollouts":[{"step":1,"mode":"train","promptText":"p","messages":[],"rewards":{"r":1}}]}`)
	for i, want := range []bool{false, true, true} {
		for _, tc := range []struct {
			path, key string
			body      []byte
		}{
			{exp + "/scalars", "batch-s-1", scalars}, {exp + "/rollouts", "batch-r-1", rollouts},
		} {
			r := c.raw("POST", tc.path, tc.body, map[string]string{"Idempotency-Key": tc.key})
			var out struct {
				Accepted int  `json:"accepted"`
				Replayed bool `json:"replayed"`
			}
			if err := jsonUnmarshal(r.body, &out); err != nil || r.status != 200 || out.Replayed != want || out.Accepted != 1 {
				t.Errorf("attempt %d %s: %d %s, want replayed=%v", i, tc.path, r.status, r.body, want)
			}
		}
	}
	var page struct {
		Rollouts []any `json:"rollouts"`
	}
	c.must(200, "GET", exp+"/rollouts", nil, &page)
	if len(page.Rollouts) != 1 {
		t.Errorf("retries stored %d rollouts, want 1", len(page.Rollouts))
	}
	for _, bad := range []string{strings.Repeat("k", 201), "caf\u00e9"} {
		if r := c.raw("POST", exp+"/scalars", scalars, map[string]string{"Idempotency-Key": bad}); r.status != 400 {
			t.Errorf("Idempotency-Key %q: %d", bad, r.status)
		}
	}
}

func TestAuth(t *testing.T) {
	e := newEnv(t, exhttp.Config{})
	browser, key := e.user("a@example.com")
	for name, c := range map[string]*client{
		"none":         e.anon(),
		"wrong bearer": e.withKey("Authorization", "expt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
		"wrong x-key":  e.withKey("x-api-key", "nope"),
		"basic":        &client{e: e, http: &http.Client{}, headers: map[string]string{"Authorization": "Basic YTpi"}},
		"bad cookie":   &client{e: e, http: &http.Client{}, headers: map[string]string{"Cookie": "expt_session=forged"}},
	} {
		for _, path := range []string{"/api/experiments", "/api/me", "/api/api-keys"} {
			if r := c.do("GET", path, nil); r.status != 401 {
				t.Errorf("%s GET %s: %d", name, path, r.status)
			}
		}
	}
	if r := e.anon().do("POST", "/api/experiments", map[string]any{}); r.status != 401 {
		t.Errorf("anonymous create: %d", r.status)
	}

	// An API key may make more keys; keys list and delete.
	apiClient := e.withKey("x-api-key", key)
	var k2 struct{ Key, ID string }
	apiClient.must(201, "POST", "/api/api-keys", map[string]string{"name": "second"}, &k2)
	var keys struct {
		Keys []struct {
			ID, Name, Prefix string
		} `json:"keys"`
	}
	browser.must(200, "GET", "/api/api-keys", nil, &keys)
	if len(keys.Keys) != 2 || !strings.HasPrefix(k2.Key, keys.Keys[0].Prefix) && !strings.HasPrefix(k2.Key, keys.Keys[1].Prefix) {
		t.Errorf("keys = %+v", keys)
	}
	var del struct {
		DeletedCount int `json:"deletedCount"`
	}
	browser.must(200, "DELETE", "/api/api-keys", map[string]any{"id": k2.ID}, &del)
	if del.DeletedCount != 1 {
		t.Errorf("deleted %d keys", del.DeletedCount)
	}
	if r := e.withKey("Authorization", k2.Key).do("GET", "/api/me", nil); r.status != 401 {
		t.Errorf("deleted key still works: %d", r.status)
	}

	// Cookie writes need JSON and, with an Origin, this host.
	if r := browser.raw("POST", "/api/experiments", []byte(`{}`), map[string]string{"Content-Type": "text/plain"}); r.status != 400 {
		t.Errorf("cookie write as text/plain: %d", r.status)
	}
	if r := browser.raw("POST", "/api/experiments", []byte(`{}`), map[string]string{"Origin": "https://evil.example"}); r.status != 401 {
		t.Errorf("cookie write from another origin: %d", r.status)
	}
	if r := browser.raw("POST", "/api/experiments", []byte(`{}`), map[string]string{"Origin": e.srv.URL}); r.status != 200 {
		t.Errorf("cookie write from our origin: %d %s", r.status, r.body)
	}
	// Keys are not cookies: no CSRF rule applies to them.
	if r := apiClient.raw("POST", "/api/experiments", []byte(`{}`), map[string]string{"Content-Type": "text/plain"}); r.status != 200 {
		t.Errorf("key write as text/plain: %d %s", r.status, r.body)
	}

	// Sign-up and sign-in validation.
	for _, body := range []map[string]any{
		{"email": "nobody", "password": "longenough"}, {"email": "b@example.com", "password": "short"}, {"email": "b@example.com"},
	} {
		if r := e.anon().do("POST", "/api/auth/sign-up/email", body); r.status != 400 {
			t.Errorf("sign-up %v: %d %s", body, r.status, r.body)
		}
	}
	if r := e.anon().do("POST", "/api/auth/sign-up/email", map[string]any{"email": "A@example.com", "password": "longenough"}); r.status != 409 {
		t.Errorf("duplicate sign-up: %d %s", r.status, r.body)
	}
}

func TestSignInThrottle(t *testing.T) {
	e := newEnv(t, exhttp.Config{})
	e.user("a@example.com")
	c := e.anon()
	wrong := map[string]string{"email": "a@example.com", "password": "wrong password"}
	for i := 0; i < 10; i++ {
		if r := c.do("POST", "/api/auth/sign-in/email", wrong); r.status != 401 {
			t.Fatalf("attempt %d: %d", i, r.status)
		}
	}
	r := c.do("POST", "/api/auth/sign-in/email", map[string]string{"email": "a@example.com", "password": "correct horse"})
	if r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Errorf("11th attempt: %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	// Another email from the same address is not blocked.
	if r := c.do("POST", "/api/auth/sign-in/email", map[string]string{"email": "b@example.com", "password": "x"}); r.status != 401 {
		t.Errorf("other email: %d", r.status)
	}
}

// TestSignInDoesNotTellWhichEmailsExist checks that an unknown email costs a
// bcrypt comparison like a wrong password does, and that a user without a
// password (the local admin `expt keys create` makes) cannot sign in with
// the password behind the timing-only hash.
func TestSignInDoesNotTellWhichEmailsExist(t *testing.T) {
	e := newEnv(t, exhttp.Config{})
	e.user("a@example.com")
	admin := &expt.User{Email: "admin@localhost", Name: "admin"}
	if err := e.store.CreateUser(context.Background(), admin); err != nil {
		t.Fatal(err)
	}
	c := e.anon()
	timeOf := func(email string) time.Duration {
		best := time.Hour
		for i := 0; i < 3; i++ {
			start := time.Now()
			if r := c.do("POST", "/api/auth/sign-in/email", map[string]string{"email": email, "password": "not the password"}); r.status != 401 {
				t.Fatalf("sign-in as %s: %d %s", email, r.status, r.body)
			}
			best = min(best, time.Since(start))
		}
		return best
	}
	known, unknown := timeOf("a@example.com"), timeOf("nobody@example.com")
	// bcrypt at the default cost takes tens of milliseconds; a lookup alone, well under one.
	if unknown < known/3 {
		t.Errorf("unknown email answered in %v, known email with a wrong password in %v", unknown, known)
	}
	r := c.do("POST", "/api/auth/sign-in/email", map[string]string{
		"email": "admin@localhost", "password": "no user has this password: it only spends time"})
	if r.status != 401 {
		t.Errorf("passwordless admin signed in with the timing-only password: %d", r.status)
	}
}
