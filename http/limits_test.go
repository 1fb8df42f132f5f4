package http_test

import (
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	exhttp "github.com/expt-logger/expt/http"
)

// batch is a JSON body with n copies of item under field.
func batch(field string, n int, item func(i int) string) []byte {
	var b strings.Builder
	b.WriteString(`{"` + field + `":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(item(i))
	}
	b.WriteString("]}")
	return []byte(b.String())
}

// TestBatchCountLimits sends each write route one item over its documented
// batch limit (well under the body limit): 413 naming the limit, nothing
// written. Scalars at exactly the limit go in.
func TestBatchCountLimits(t *testing.T) {
	e := newEnv(t, exhttp.Config{})
	_, key := e.user("a@example.com")
	c := e.withKey("Authorization", key)
	exp := "/api/experiments/" + c.newExperiment(nil)

	scalar := func(i int) string { return fmt.Sprintf(`{"step":%d,"mode":"train","name":"loss","value":1}`, i) }
	for _, tc := range []struct {
		route, field, want string
		n                  int
		item               func(int) string
	}{
		{"scalars", "scalars", "scalars: more than 100000 points in one batch", 100_001, scalar},
		{"rollouts", "rollouts", "rollouts: more than 10000 in one batch", 10_001, func(i int) string {
			return fmt.Sprintf(`{"step":%d,"mode":"train","promptText":"p"}`, i)
		}},
		{"errors", "errors", "errors: more than 10000 in one batch", 10_001, func(i int) string { return `{"message":"m"}` }},
		{"env-logs", "logs", "logs: more than 10000 in one batch", 10_001, func(i int) string {
			return `{"rolloutId":"r","content":"c"}`
		}},
	} {
		body := batch(tc.field, tc.n, tc.item)
		if r := c.raw("POST", exp+"/"+tc.route, body, nil); r.status != 413 || r.error() != tc.want {
			t.Errorf("%s: %d items: %d %s, want 413 %q", tc.route, tc.n, r.status, r.body, tc.want)
		}
	}
	var got struct {
		Metrics []any `json:"metrics"`
	}
	c.must(200, "GET", exp+"/metrics", nil, &got)
	var rollouts, errs struct {
		Rollouts []any `json:"rollouts"`
		Errors   []any `json:"errors"`
	}
	c.must(200, "GET", exp+"/rollouts", nil, &rollouts)
	c.must(200, "GET", exp+"/errors", nil, &errs)
	var logs struct {
		Logs []any `json:"logs"`
	}
	c.must(200, "GET", exp+"/env-logs?rolloutId=r", nil, &logs)
	if len(got.Metrics)+len(rollouts.Rollouts)+len(errs.Errors)+len(logs.Logs) != 0 {
		t.Errorf("refused batches left %d metrics, %d rollouts, %d errors, %d logs",
			len(got.Metrics), len(rollouts.Rollouts), len(errs.Errors), len(logs.Logs))
	}

	// The limit itself is allowed.
	r := c.raw("POST", exp+"/scalars", batch("scalars", 100_000, scalar), nil)
	var w struct {
		Accepted int `json:"accepted"`
	}
	if err := jsonUnmarshal(r.body, &w); r.status != 200 || err != nil || w.Accepted != 100_000 {
		t.Errorf("100,000 scalars: %d %s", r.status, r.body)
	}
}

// TestLimitWrites puts the write limiter in front of the API with a refill
// too slow to matter during the test (one write per 1000 s) and bursts of 3,
// so every count below is exact whatever the machine's speed.
func TestLimitWrites(t *testing.T) {
	e := newEnv(t, exhttp.Config{})
	limited := httptest.NewServer(exhttp.LimitWrites(e.api, 0.001, 3))
	t.Cleanup(limited.Close)
	le := *e
	le.srv = limited
	e = &le

	browserA, keyA := e.user("a@example.com") // its key: the session's first write (sign-up is not counted)
	keyA2 := e.newKey(browserA, "second")     // the session's second write
	a := e.withKey("Authorization", keyA)
	exp := "/api/experiments/" + a.newExperiment(nil)
	scalar := []byte(`{"scalars":[{"step":1,"mode":"train","name":"loss","value":1}]}`)

	for i := 0; i < 2; i++ { // with the create above: the burst of 3
		if r := a.raw("POST", exp+"/scalars", scalar, nil); r.status != 200 {
			t.Fatalf("write %d: %d %s", i+2, r.status, r.body)
		}
	}
	r := a.raw("POST", exp+"/scalars", []byte(`{"scalars":[{"step":2,"mode":"train","name":"loss","value":1}]}`), nil)
	if sec, err := strconv.Atoi(r.header.Get("Retry-After")); r.status != 429 || err != nil || sec < 1 || !strings.Contains(r.error(), "retry in") {
		t.Fatalf("4th write: %d Retry-After %q %s, want 429", r.status, r.header.Get("Retry-After"), r.body)
	}
	// The same key in the other header is the same caller.
	if r := e.withKey("x-api-key", keyA).raw("POST", exp+"/scalars", scalar, nil); r.status != 429 {
		t.Errorf("same key as x-api-key: %d", r.status)
	}
	// Reads go on, and the refused write wrote nothing.
	var series struct {
		Total int `json:"total"`
	}
	a.must(200, "GET", exp+"/series?mode=train&name=loss", nil, &series)
	if series.Total != 1 {
		t.Errorf("loss has %d points, want 1 (step 2 was refused)", series.Total)
	}
	// Another key of the same user has its own bucket.
	a2 := e.withKey("Authorization", keyA2)
	if r := a2.raw("POST", exp+"/scalars", scalar, nil); r.status != 200 {
		t.Errorf("another key: %d %s", r.status, r.body)
	}

	// The session had two writes; one more, then 429.
	browserA.must(200, "PUT", exp, map[string]any{"status": "complete"}, nil)
	if r := browserA.do("PUT", exp, map[string]any{"status": "active"}); r.status != 429 {
		t.Errorf("4th session write: %d %s", r.status, r.body)
	}
	// Sign-in has its own throttle, and callers without credentials get 401.
	for i := 0; i < 5; i++ {
		e.browser().must(200, "POST", "/api/auth/sign-in/email", map[string]string{"email": "a@example.com", "password": "correct horse"}, nil)
	}
	if r := e.anon().raw("POST", exp+"/scalars", scalar, nil); r.status != 401 {
		t.Errorf("no credentials: %d", r.status)
	}
}

func TestLimitWritesOff(t *testing.T) {
	e := newEnv(t, exhttp.Config{})
	if h := exhttp.LimitWrites(e.api, 0, 1); h != e.api {
		t.Errorf("LimitWrites with rate 0 wrapped the handler")
	}
}
