package http_test

import (
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
