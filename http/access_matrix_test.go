package http_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"

	exhttp "github.com/expt-logger/expt/http"
)

// docOp is one operation of api/openapi.yaml.
type docOp struct {
	method, pattern string
	public          bool // "security: []"
}

func (o docOp) String() string { return o.method + " " + o.pattern }

// readDocOps lists the operations of api/openapi.yaml. It reads the same
// block layout that openapi_test.go's parser holds the document to (paths at
// indent 2, methods at 4, operation keys at 6), and TestOpenAPIMatchesRoutes
// holds the document to Routes(), so iterating it covers every route.
func readDocOps(t *testing.T) []docOp {
	t.Helper()
	f, err := os.Open("../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ops []docOp
	inPaths, path := false, ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		switch indent := len(line) - len(strings.TrimLeft(line, " ")); {
		case indent == 0:
			inPaths = trimmed == "paths:"
		case !inPaths:
		case indent == 2:
			path = strings.TrimSuffix(trimmed, ":")
		case indent == 4:
			switch m := strings.TrimSuffix(trimmed, ":"); m {
			case "get", "put", "post", "delete", "patch":
				ops = append(ops, docOp{method: strings.ToUpper(m), pattern: path})
			}
		case indent == 6 && len(ops) > 0 && trimmed == "security: []":
			ops[len(ops)-1].public = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(ops) != len(exhttp.Routes()) {
		t.Fatalf("api/openapi.yaml has %d operations, the route table %d", len(ops), len(exhttp.Routes()))
	}
	// Sign-out ends the caller's session, so it goes last: the browser
	// client must keep its session for every other route.
	sort.SliceStable(ops, func(i, j int) bool {
		return ops[j].pattern == "/api/auth/sign-out" && ops[i].pattern != "/api/auth/sign-out"
	})
	return ops
}

// owned is one user's experiment with some of everything in it.
type owned struct {
	exp       string // experiment id
	rollout   int64  // a rollout's server id
	keyIDs    []string
	email     string
	expPrefix string // "/api/experiments/" + exp
}

func (e *env) ownedExperiment(c *client, email string) owned {
	e.t.Helper()
	o := owned{email: email}
	o.exp = c.newExperiment(map[string]any{"name": "owned by " + email, "config": map[string]any{"lr": 1e-6}})
	o.expPrefix = "/api/experiments/" + o.exp
	c.must(200, "POST", o.expPrefix+"/scalars", map[string]any{"scalars": []map[string]any{
		{"step": 1, "mode": "train", "name": "loss", "value": 0.5},
		{"step": 2, "mode": "train", "name": "loss", "value": "NaN"},
		{"step": 2, "mode": "eval", "name": "acc", "value": 0.9},
	}}, nil)
	var wrote struct {
		IDs []int64 `json:"ids"`
	}
	c.must(200, "POST", o.expPrefix+"/rollouts", map[string]any{"rollouts": []map[string]any{
		{"id": "r1", "step": 1, "mode": "train", "promptText": "p", "rewards": map[string]any{"r": 1}},
		{"id": "r2", "step": 1, "mode": "train", "promptText": "p", "rewards": map[string]any{"r": 0}},
	}}, &wrote)
	o.rollout = wrote.IDs[0]
	c.must(200, "POST", o.expPrefix+"/errors", map[string]any{"errors": []map[string]any{{"message": "boom", "step": 1}}}, nil)
	c.must(200, "POST", o.expPrefix+"/env-logs", map[string]any{"logs": []map[string]any{{"rolloutId": "r1", "content": "stdout"}}}, nil)
	var keys struct {
		Keys []struct {
			ID string `json:"id"`
		} `json:"keys"`
	}
	c.must(200, "GET", "/api/api-keys", nil, &keys)
	for _, k := range keys.Keys {
		o.keyIDs = append(o.keyIDs, k.ID)
	}
	return o
}

// snapshot is everything c can read about o, to compare before and after.
func (o owned) snapshot(c *client) map[string]string {
	c.e.t.Helper()
	out := map[string]string{}
	for _, path := range []string{
		o.expPrefix, o.expPrefix + "/details", o.expPrefix + "/metrics",
		o.expPrefix + "/scalars?mode=train", o.expPrefix + "/scalars?mode=eval",
		o.expPrefix + "/rollouts?limit=1000", fmt.Sprintf("%s/rollouts/%d", o.expPrefix, o.rollout),
		o.expPrefix + "/errors", o.expPrefix + "/env-logs?rolloutId=r1",
		"/api/experiments", "/api/api-keys", "/api/me",
	} {
		out[path] = string(c.must(200, "GET", path, nil, nil).body)
	}
	return out
}

func sameSnapshot(t *testing.T, who string, before, after map[string]string) {
	t.Helper()
	for path, b := range before {
		if after[path] != b {
			t.Errorf("%s changed %s:\nbefore %s\nafter  %s", who, path, b, after[path])
		}
	}
}

// matrixBodies are valid bodies, so that a refusal is about who asks and
// not about what they sent. The rest send {} (a cookie-authenticated write
// needs a JSON body to pass the CSRF check).
var matrixBodies = map[string]string{
	"POST /api/experiments/{id}/scalars":  `{"scalars":[{"step":9,"mode":"train","name":"loss","value":1}]}`,
	"POST /api/experiments/{id}/rollouts": `{"rollouts":[{"step":9,"mode":"train","promptText":"mine"}]}`,
	"POST /api/experiments/{id}/errors":   `{"errors":[{"message":"mine"}]}`,
	"POST /api/experiments/{id}/env-logs": `{"logs":[{"rolloutId":"r1","content":"mine"}]}`,
	"PUT /api/experiments/{id}":           `{"name":"mine now","status":"complete","config":{"lr":1}}`,
	"POST /api/api-keys":                  `{"name":"new"}`,
}

// projectSeq names the projects the matrix makes, one per call.
var projectSeq int

// matrixPath fills a pattern's parameters with o's ids.
func matrixPath(pattern string, o owned) string {
	p := strings.ReplaceAll(pattern, "{rolloutId}", fmt.Sprint(o.rollout))
	if strings.HasPrefix(p, "/api/api-keys/") {
		return strings.ReplaceAll(p, "{id}", o.keyIDs[0])
	}
	return strings.ReplaceAll(p, "{id}", o.exp)
}

func matrixBody(op docOp, o owned) []byte {
	if b, ok := matrixBodies[op.String()]; ok {
		return []byte(b)
	}
	ids, _ := json.Marshal(map[string]any{"ids": append([]string{o.exp}, o.keyIDs...)})
	switch op.String() {
	case "POST /api/experiments":
		return []byte(`{"id":"` + o.exp + `","name":"taken"}`)
	case "PUT /api/experiments":
		return []byte(`{"id":"` + o.exp + `","name":"mine now"}`)
	case "DELETE /api/experiments", "DELETE /api/api-keys":
		return ids
	case "POST /api/auth/sign-up/email":
		return []byte(`{"email":"` + o.email + `","password":"another password","name":"Eve"}`)
	case "POST /api/auth/sign-in/email":
		return []byte(`{"email":"` + o.email + `","password":"not the password"}`)
	case "POST /api/projects":
		projectSeq++
		return []byte(fmt.Sprintf(`{"name":"b-project-%d"}`, projectSeq))
	}
	if op.method == "GET" {
		return nil
	}
	return []byte(`{}`)
}

// TestAccessMatrix runs every operation of api/openapi.yaml as user B, with
// B's key (both headers) and B's browser session, aimed at user A's
// experiment, rollout and keys: the experiment routes answer 404, the rest act
// on B's own data, and nothing of A's changes. Without credentials every
// non-public route answers 401, and so does a key the moment it is revoked
// and a session the moment it is signed out.
func TestAccessMatrix(t *testing.T) {
	e := newEnv(t, exhttp.Config{})
	browserA, keyA := e.user("a@example.com")
	keyA2 := e.newKey(browserA, "second")
	browserB, keyB := e.user("b@example.com")
	a := e.ownedExperiment(e.withKey("Authorization", keyA), "a@example.com")
	if len(a.keyIDs) != 2 {
		t.Fatalf("A has keys %v", a.keyIDs)
	}
	before := a.snapshot(browserA)
	ops := readDocOps(t)

	for name, c := range map[string]*client{
		"B's key (Bearer)":    e.withKey("Authorization", keyB),
		"B's key (x-api-key)": e.withKey("x-api-key", keyB),
		"B's session":         browserB,
	} {
		for _, op := range ops {
			r := c.raw(op.method, matrixPath(op.pattern, a), matrixBody(op, a), nil)
			want, check := matrixExpect(op, a, "b@example.com")
			if r.status != want && !(want == 404 && r.status == 403) {
				t.Errorf("%s: %s on A's: %d %s, want %d", name, op, r.status, r.body, want)
			} else if check != nil {
				if msg := check(r.body); msg != "" {
					t.Errorf("%s: %s: %s in %s", name, op, msg, r.body)
				}
			}
		}
	}
	sameSnapshot(t, "user B", before, a.snapshot(browserA))
	// A's keys still work: B's deletes by id did not reach them.
	for _, k := range []string{keyA, keyA2} {
		e.withKey("Authorization", k).must(200, "GET", a.expPrefix, nil, nil)
	}
	before = a.snapshot(browserA) // the keys' lastUsedAt moved just now

	// No credentials, a made-up key and a malformed header: 401 everywhere
	// that is not public, and A's data unchanged.
	for name, c := range map[string]*client{
		"no credentials": e.anon(),
		"unknown key":    e.withKey("Authorization", "expt_"+strings.Repeat("A", 43)),
		"unknown x-key":  e.withKey("x-api-key", "expt_"+strings.Repeat("A", 43)),
		"not Bearer":     {e: e, http: &http.Client{}, headers: map[string]string{"Authorization": "Basic " + keyA}},
	} {
		n := 0
		for _, op := range ops {
			if op.public {
				continue
			}
			n++
			if r := c.raw(op.method, matrixPath(op.pattern, a), matrixBody(op, a), nil); r.status != 401 {
				t.Errorf("%s: %s: %d %s, want 401", name, op, r.status, r.body)
			}
		}
		if n < 25 {
			t.Errorf("%s: only %d non-public routes", name, n)
		}
	}
	sameSnapshot(t, "a caller without credentials", before, a.snapshot(browserA))
}

// TestRevokedCredentialsAre401AtOnce revokes keys both ways (by path and by
// body) and signs a session out, then uses each on every non-public route
// aimed at the owner's own experiment: 401 at once, and nothing written.
func TestRevokedCredentialsAre401AtOnce(t *testing.T) {
	e := newEnv(t, exhttp.Config{})
	browser, key := e.user("b@example.com")
	o := e.ownedExperiment(e.withKey("Authorization", key), "b@example.com")
	byPath, byBody := e.newKey(browser, "by path"), e.newKey(browser, "by body")
	ids := e.keyIDs(browser)

	// A second session of the same user, to sign out.
	session := e.browser()
	session.must(200, "POST", "/api/auth/sign-in/email", map[string]string{"email": "b@example.com", "password": "correct horse"}, nil)
	cookie := sessionCookieOf(t, e, session)

	// Each credential works right before it is revoked.
	for _, k := range []string{byPath, byBody} {
		e.withKey("Authorization", k).must(200, "GET", o.expPrefix, nil, nil)
	}
	session.must(200, "GET", o.expPrefix, nil, nil)
	browser.must(200, "DELETE", "/api/api-keys/"+ids["by path"], map[string]any{}, nil)
	e.withKey("Authorization", key).must(200, "DELETE", "/api/api-keys", map[string]any{"ids": []string{ids["by body"]}}, nil)
	session.must(200, "POST", "/api/auth/sign-out", map[string]any{}, nil)
	before := o.snapshot(browser)

	for name, c := range map[string]*client{
		"key revoked by path":            e.withKey("Authorization", byPath),
		"key revoked by body":            e.withKey("Authorization", byBody),
		"key revoked by path, x-api-key": e.withKey("x-api-key", byPath),
		"signed-out session":             {e: e, http: &http.Client{}, headers: map[string]string{"Cookie": cookie}},
	} {
		for _, op := range readDocOps(t) {
			if op.public {
				continue
			}
			if r := c.raw(op.method, matrixPath(op.pattern, o), matrixBody(op, o), nil); r.status != 401 {
				t.Errorf("%s: %s: %d %s, want 401", name, op, r.status, r.body)
			}
		}
	}
	sameSnapshot(t, "revoked credentials", before, o.snapshot(browser))
	// The key that did the revoking is untouched.
	e.withKey("Authorization", key).must(200, "GET", o.expPrefix, nil, nil)
}

// matrixExpect is the status B gets for op aimed at A's things, and a check
// of the body when the route acts on B's own data.
func matrixExpect(op docOp, a owned, emailB string) (int, func([]byte) string) {
	notA := func(body []byte) string {
		for _, id := range append([]string{a.exp, a.email}, a.keyIDs...) {
			if strings.Contains(string(body), id) {
				return "A's " + id + " shows"
			}
		}
		return ""
	}
	deletedNone := func(body []byte) string {
		if !strings.Contains(string(body), `"deletedCount":0`) {
			return "deleted something of A's"
		}
		return ""
	}
	switch op.String() {
	case "GET /api/health":
		return 200, nil
	case "POST /api/auth/sign-up/email":
		return 409, nil // A's email is taken
	case "POST /api/auth/sign-in/email":
		return 401, nil // a wrong password for A
	case "POST /api/auth/sign-out":
		return 200, nil // ends only B's own session
	case "GET /api/me":
		return 200, func(body []byte) string {
			if !strings.Contains(string(body), emailB) {
				return "not B"
			}
			return notA(body)
		}
	case "POST /api/api-keys":
		return 201, nil // a key of B's own
	case "GET /api/api-keys", "GET /api/experiments", "GET /api/export/scalars", "GET /api/export/rollouts":
		return 200, notA // B's own experiments only
	case "DELETE /api/api-keys", "DELETE /api/experiments":
		return 200, deletedNone
	case "POST /api/experiments":
		return 409, nil // A's id is taken
	case "GET /api/projects":
		return 200, notA // B's own, not A's personal project (named by A's email)
	case "POST /api/projects":
		return 201, nil // a project of B's own
	case "PUT /api/experiments", "DELETE /api/api-keys/{id}":
		return 404, nil
	}
	if strings.HasPrefix(op.pattern, "/api/experiments/{id}") || strings.HasPrefix(op.pattern, "/api/projects/{id}") {
		return 404, nil
	}
	// A new route must say here what another user gets from it.
	return -1, nil
}

func (e *env) newKey(browser *client, name string) string {
	e.t.Helper()
	var k struct {
		Key string `json:"key"`
	}
	browser.must(201, "POST", "/api/api-keys", map[string]string{"name": name}, &k)
	return k.Key
}

// keyIDs maps the names of the caller's keys to their ids.
func (e *env) keyIDs(c *client) map[string]string {
	e.t.Helper()
	var keys struct {
		Keys []struct{ ID, Name string } `json:"keys"`
	}
	c.must(200, "GET", "/api/api-keys", nil, &keys)
	out := map[string]string{}
	for _, k := range keys.Keys {
		out[k.Name] = k.ID
	}
	return out
}

// sessionCookieOf is the session cookie a browser client holds, as a
// Cookie header to replay after it is signed out.
func sessionCookieOf(t *testing.T, e *env, c *client) string {
	t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+"/", nil)
	for _, ck := range c.http.Jar.Cookies(req.URL) {
		if ck.Name == "expt_session" {
			return ck.Name + "=" + ck.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}
