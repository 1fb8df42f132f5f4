package http_test

import (
	"strconv"
	"strings"
	"testing"

	exhttp "github.com/expt-logger/expt/http"
)

// TestNULInURLIs400 sends a NUL in every query parameter the API reads, on
// every route, and in a path parameter. Schemathesis found q=a%00b answering
// 500 on SQLite (its full-text parser); on PostgreSQL every text parameter
// did, as it refuses NUL in text. All must be 400 on both stores.
func TestNULInURLIs400(t *testing.T) {
	e := newEnv(t, exhttp.Config{})
	browser, key := e.user("a@example.com")
	c := e.withKey("Authorization", key)
	o := e.ownedExperiment(c, "a@example.com")
	before := o.snapshot(browser)
	query := "?q=a%00b&mode=%00&name=%00&rolloutId=%00&prompt=%00&reward=a%00%3C1&sort=reward:%00&status=%00"
	for _, rt := range exhttp.Routes() {
		path := matrixPath(rt.Pattern, o) + query
		body := matrixBody(docOp{method: rt.Method, pattern: rt.Pattern}, o)
		if r := c.raw(rt.Method, path, body, nil); r.status != 400 || !strings.Contains(r.error(), "NUL") {
			t.Errorf("%s %s: %d %s, want 400", rt.Method, path, r.status, r.body)
		}
	}
	for _, path := range []string{"/api/api-keys/%00", "/api/experiments/%00"} {
		if r := c.raw("DELETE", path, []byte(`{}`), nil); r.status != 400 {
			t.Errorf("DELETE %s: %d %s, want 400", path, r.status, r.body)
		}
	}
	// Nothing was written or deleted (the key's lastUsedAt aside).
	after := o.snapshot(browser)
	delete(before, "/api/api-keys")
	sameSnapshot(t, "NUL requests", before, after)
	var keys struct{ Keys []any }
	browser.must(200, "GET", "/api/api-keys", nil, &keys)
	if len(keys.Keys) != 1 {
		t.Errorf("%d keys, want 1", len(keys.Keys))
	}
}

// TestNULInBodyIs400: schemathesis on PostgreSQL found a NUL in a JSON
// string answering 500 (PostgreSQL refuses NUL in text), which a client
// retries for ever. Every store now refuses it with 400, while the text
// "\u0000" (an escaped backslash, then u0000) is ordinary and kept.
func TestNULInBodyIs400(t *testing.T) {
	e := newEnv(t, exhttp.Config{})
	browser, key := e.user("a@example.com")
	c := e.withKey("Authorization", key)
	o := e.ownedExperiment(c, "a@example.com")
	before := o.snapshot(browser)
	for _, tc := range []struct{ method, path, body string }{
		{"POST", o.expPrefix + "/scalars", `{"scalars":[{"step":1,"mode":"train","name":"a\u0000","value":1}]}`},
		{"POST", o.expPrefix + "/rollouts", `{"rollouts":[{"step":1,"mode":"train","messages":[{"role":"assistant","content":"x\\\u0000"}]}]}`},
		{"POST", o.expPrefix + "/errors", `{"errors":[{"message":"\u0000"}]}`},
		{"POST", o.expPrefix + "/env-logs", `{"logs":[{"rolloutId":"r1","content":"\u0000"}]}`},
		{"PUT", o.expPrefix, `{"config":{"k\u0000":1}}`},
		{"POST", "/api/experiments", `{"name":"\u0000"}`},
		{"POST", "/api/api-keys", `{"name":"\u0000"}`},
		{"POST", "/api/auth/sign-up/email", `{"email":"x\u0000@example.com","password":"correct horse"}`},
		{"POST", "/api/auth/sign-in/email", `{"email":"a@example.com\u0000","password":"correct horse"}`},
		{"POST", o.expPrefix + "/errors", "{\"errors\":[{\"message\":\"raw \x00\"}]}"},
	} {
		if r := c.raw(tc.method, tc.path, []byte(tc.body), nil); r.status != 400 || !strings.Contains(r.error(), "NUL") {
			t.Errorf("%s %s %s: %d %s, want 400 naming NUL", tc.method, tc.path, tc.body, r.status, r.body)
		}
	}
	delete(before, "/api/api-keys") // lastUsedAt of the key
	sameSnapshot(t, "NUL bodies", before, o.snapshot(browser))

	// A backslash before u0000 is text, not a NUL.
	var wrote struct {
		IDs []int64 `json:"ids"`
	}
	c.must(200, "POST", o.expPrefix+"/rollouts", map[string]any{"rollouts": []map[string]any{
		{"step": 3, "mode": "train", "messages": []map[string]any{{"role": "assistant", "content": `printf("\u0000")`}}},
	}}, &wrote)
	var got struct {
		Messages []struct{ Content string } `json:"messages"`
	}
	c.must(200, "GET", o.expPrefix+"/rollouts/"+strconv.FormatInt(wrote.IDs[0], 10), nil, &got)
	if len(got.Messages) != 1 || got.Messages[0].Content != `printf("\u0000")` {
		t.Errorf("escaped text came back as %+v", got.Messages)
	}
}
