package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	exhttp "github.com/expt-logger/expt/http"
)

// The callers of the project access matrix, in the order of each row of
// projectMatrix.
var matrixCallers = []string{"owner", "editor", "viewer", "non-member", "key for another project", "write-only key", "revoked key"}

// projectMatrix is the status each caller gets from each operation of
// api/openapi.yaml aimed at a project's things. A starred status is a
// change that succeeds, so it runs against a world of its own.
var projectMatrix = map[string][7]string{
	"GET /api/health":              {"200", "200", "200", "200", "200", "200", "200"},
	"POST /api/auth/sign-up/email": {"409", "409", "409", "409", "409", "409", "409"}, // the owner's email
	"POST /api/auth/sign-in/email": {"401", "401", "401", "401", "401", "401", "401"}, // a wrong password
	"POST /api/auth/sign-out":      {"200", "200", "200", "200", "200", "200", "200"},
	"GET /api/me":                  {"200", "200", "200", "200", "200", "200", "401"},

	"POST /api/api-keys":        {"201", "201", "201", "201", "403", "403", "401"},
	"GET /api/api-keys":         {"200", "200", "200", "200", "403", "403", "401"},
	"DELETE /api/api-keys":      {"200*", "200", "200", "200", "403", "403", "401"}, // the owner's spare key
	"DELETE /api/api-keys/{id}": {"200*", "404", "404", "404", "403", "403", "401"},

	"GET /api/projects":                          {"200", "200", "200", "200", "200", "200", "401"},
	"POST /api/projects":                         {"201", "201", "201", "201", "403", "201", "401"},
	"GET /api/projects/{id}":                     {"200", "200", "200", "404", "404", "403", "401"},
	"PATCH /api/projects/{id}":                   {"200*", "403", "403", "404", "404", "403", "401"},
	"DELETE /api/projects/{id}":                  {"200*", "403", "403", "404", "404", "403", "401"},
	"GET /api/projects/{id}/members":             {"200", "200", "200", "404", "404", "403", "401"},
	"POST /api/projects/{id}/members":            {"201*", "403", "403", "404", "404", "403", "401"},
	"PATCH /api/projects/{id}/members/{userId}":  {"200*", "403", "403", "404", "404", "403", "401"},
	"DELETE /api/projects/{id}/members/{userId}": {"200*", "403", "403", "404", "404", "403", "401"},

	// Creating the run's id again resumes it for whoever may log to it.
	"POST /api/experiments":             {"200", "200", "409", "409", "409", "200", "401"},
	"GET /api/experiments":              {"200", "200", "200", "200", "200", "403", "401"},
	"GET /api/export/scalars":           {"200", "200", "200", "200", "200", "403", "401"}, // what each may read
	"GET /api/export/rollouts":          {"200", "200", "200", "200", "200", "403", "401"},
	"PUT /api/experiments":              {"200*", "200*", "403", "404", "404", "200*", "401"},
	"DELETE /api/experiments":           {"200*", "200*", "200", "200", "200", "403", "401"},
	"GET /api/experiments/{id}":         {"200", "200", "200", "404", "404", "200", "401"},
	"GET /api/experiments/{id}/details": {"200", "200", "200", "404", "404", "200", "401"},
	"DELETE /api/experiments/{id}":      {"200*", "200*", "403", "404", "404", "403", "401"},
	"PUT /api/experiments/{id}":         {"200*", "200*", "403", "404", "404", "200*", "401"},
}

// matrixStatus is an operation's row: the table's, or one of the two rows
// every log and every read of a run's data share.
func matrixStatus(op docOp) ([7]string, bool) {
	if row, ok := projectMatrix[op.String()]; ok {
		return row, true
	}
	if strings.HasPrefix(op.pattern, "/api/experiments/{id}/") {
		if op.method == "POST" {
			return [7]string{"200*", "200*", "403", "404", "404", "200*", "401"}, true
		}
		if op.method == "GET" {
			return [7]string{"200", "200", "200", "404", "404", "403", "401"}, true
		}
	}
	return [7]string{}, false
}

// world is one shared project with a run that has some of everything, and
// a spare key of its owner's.
type world struct {
	name     string
	project  int64
	exp      string
	rollout  int64
	viewerID int64
	spareKey string // id
}

type projectMatrixEnv struct {
	*env
	admin  *client // the owner's own session that builds worlds and snapshots them
	emails map[string]string
	n      int
}

func (m *projectMatrixEnv) unique(prefix string) string {
	m.n++
	return fmt.Sprintf("%s-%d", prefix, m.n)
}

func (m *projectMatrixEnv) newWorld() world {
	m.t.Helper()
	w := world{name: m.unique("lab")}
	var p struct {
		ID int64 `json:"id"`
	}
	m.admin.must(201, "POST", "/api/projects", map[string]string{"name": w.name}, &p)
	w.project = p.ID
	base := fmt.Sprintf("/api/projects/%d/members", p.ID)
	m.admin.must(201, "POST", base, map[string]string{"email": m.emails["editor"], "role": "editor"}, nil)
	var v struct {
		UserID int64 `json:"userId"`
	}
	m.admin.must(201, "POST", base, map[string]string{"email": m.emails["viewer"], "role": "viewer"}, &v)
	w.viewerID = v.UserID
	w.exp = m.admin.newExperiment(map[string]any{"name": "grpo", "project": w.name, "config": map[string]any{"lr": 3e-6}})
	prefix := "/api/experiments/" + w.exp
	m.admin.must(200, "POST", prefix+"/scalars", map[string]any{"scalars": []map[string]any{
		{"step": 1, "mode": "train", "name": "loss", "value": 0.5}, {"step": 2, "mode": "eval", "name": "acc", "value": 0.9},
	}}, nil)
	var wrote struct {
		IDs []int64 `json:"ids"`
	}
	m.admin.must(200, "POST", prefix+"/rollouts", map[string]any{"rollouts": []map[string]any{
		{"id": "r1", "step": 1, "mode": "train", "promptText": "p", "rewards": map[string]any{"r": 1}},
		{"id": "r2", "step": 1, "mode": "train", "promptText": "p", "rewards": map[string]any{"r": 0}},
	}}, &wrote)
	w.rollout = wrote.IDs[0]
	m.admin.must(200, "POST", prefix+"/errors", map[string]any{"errors": []map[string]any{{"message": "boom", "step": 1}}}, nil)
	m.admin.must(200, "POST", prefix+"/env-logs", map[string]any{"logs": []map[string]any{{"rolloutId": "r1", "content": "stdout"}}}, nil)
	var k struct {
		ID string `json:"id"`
	}
	m.admin.must(201, "POST", "/api/api-keys", map[string]string{"name": m.unique("spare")}, &k)
	w.spareKey = k.ID
	return w
}

// snapshot is what the owner reads of w, to compare before and after.
func (m *projectMatrixEnv) snapshot(w world) map[string]string {
	m.t.Helper()
	prefix := "/api/experiments/" + w.exp
	out := map[string]string{}
	for _, path := range []string{
		fmt.Sprintf("/api/projects/%d", w.project), fmt.Sprintf("/api/projects/%d/members", w.project),
		prefix, prefix + "/details", prefix + "/metrics", prefix + "/scalars?mode=train", prefix + "/scalars?mode=eval",
		prefix + "/rollouts?limit=1000", fmt.Sprintf("%s/rollouts/%d", prefix, w.rollout),
		prefix + "/errors", prefix + "/env-logs?rolloutId=r1", fmt.Sprintf("/api/experiments?project=%d", w.project),
	} {
		out[path] = string(m.admin.must(200, "GET", path, nil, nil).body)
	}
	// Keys by id and name (their lastUsedAt moves with every use).
	var keys struct {
		Keys []struct{ ID, Name, Access string } `json:"keys"`
	}
	m.admin.must(200, "GET", "/api/api-keys", nil, &keys)
	var ks []string
	for _, k := range keys.Keys {
		ks = append(ks, k.ID+" "+k.Name+" "+k.Access)
	}
	sort.Strings(ks)
	out["keys"] = strings.Join(ks, "\n")
	return out
}

func (m *projectMatrixEnv) path(op docOp, w world) string {
	p := op.pattern
	p = strings.ReplaceAll(p, "{rolloutId}", fmt.Sprint(w.rollout))
	p = strings.ReplaceAll(p, "{userId}", fmt.Sprint(w.viewerID))
	switch {
	case strings.HasPrefix(p, "/api/api-keys/"):
		p = strings.ReplaceAll(p, "{id}", w.spareKey)
	case strings.HasPrefix(p, "/api/projects/"):
		p = strings.ReplaceAll(p, "{id}", fmt.Sprint(w.project))
	default:
		p = strings.ReplaceAll(p, "{id}", w.exp)
	}
	switch op.String() {
	case "GET /api/experiments/{id}/env-logs":
		p += "?rolloutId=r1"
	case "GET /api/experiments/{id}/scalars":
		p += "?mode=train"
	case "GET /api/experiments/{id}/series":
		p += "?mode=train&name=loss"
	case "GET /api/experiments/{id}/rewards/distribution":
		p += "?name=r"
	}
	return p
}

func (m *projectMatrixEnv) body(op docOp, w world) []byte {
	if b, ok := matrixBodies[op.String()]; ok {
		return []byte(b)
	}
	j := func(v any) []byte { b, _ := json.Marshal(v); return b }
	switch op.String() {
	case "POST /api/experiments":
		return j(map[string]string{"id": w.exp, "name": "taken"})
	case "PUT /api/experiments":
		return j(map[string]string{"id": w.exp, "name": "mine now"})
	case "DELETE /api/experiments":
		return j(map[string][]string{"ids": {w.exp}})
	case "DELETE /api/api-keys":
		return j(map[string][]string{"ids": {w.spareKey}})
	case "POST /api/auth/sign-up/email":
		return j(map[string]string{"email": m.emails["owner"], "password": "another password"})
	case "POST /api/auth/sign-in/email":
		return j(map[string]string{"email": m.emails["owner"], "password": "not the password"})
	case "POST /api/projects", "PATCH /api/projects/{id}":
		return j(map[string]string{"name": m.unique("made")})
	case "POST /api/projects/{id}/members":
		return j(map[string]string{"email": m.unique("new") + "@example.com", "role": "viewer"})
	case "PATCH /api/projects/{id}/members/{userId}":
		return j(map[string]string{"role": "editor"})
	}
	if op.method == "GET" {
		return nil
	}
	return []byte(`{}`)
}

// statusOnly sends a request and returns its status once the headers are
// in: a live stream that is allowed never ends by itself.
func statusOnly(t *testing.T, c *client, path string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", c.e.srv.URL+path, nil)
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestProjectAccessMatrix runs every operation of api/openapi.yaml as each
// kind of caller against a shared project's project, members, run, data
// and keys: the status is the table's, and whatever was refused changed
// nothing. Changes that succeed run on a world of their own and are
// checked to have happened.
func TestProjectAccessMatrix(t *testing.T) {
	e := newEnv(t, exhttp.Config{})
	e.user("admin@example.com") // the first account is the server's admin
	m := &projectMatrixEnv{env: e, emails: map[string]string{
		"owner": "owner@example.com", "editor": "editor@example.com", "viewer": "viewer@example.com", "non-member": "stranger@example.com",
	}}
	ownerSession, _ := e.user(m.emails["owner"])
	m.admin = e.browser()
	m.admin.must(200, "POST", "/api/auth/sign-in/email", map[string]string{"email": m.emails["owner"], "password": "correct horse"}, nil)
	_, editorKey := e.user(m.emails["editor"])
	viewerSession, _ := e.user(m.emails["viewer"])
	_, strangerKey := e.user(m.emails["non-member"])
	m.admin.must(201, "POST", "/api/projects", map[string]string{"name": "elsewhere"}, nil)
	scoped := e.keyFor(m.admin, map[string]string{"name": "elsewhere-job", "project": "elsewhere"})
	writeOnly := e.keyFor(m.admin, map[string]string{"name": "job", "access": "write"})
	revoked := e.keyFor(m.admin, map[string]string{"name": "revoked"})
	m.admin.must(200, "DELETE", "/api/api-keys/"+e.keyIDs(m.admin)["revoked"], map[string]any{}, nil)

	callers := []*client{ownerSession, e.withKey("Authorization", editorKey), viewerSession, e.withKey("x-api-key", strangerKey),
		e.withKey("Authorization", scoped), e.withKey("Authorization", writeOnly), e.withKey("Authorization", revoked)}
	shared := m.newWorld()
	before := m.snapshot(shared)
	ops := readDocOps(t)
	for i, c := range callers {
		for _, op := range ops {
			row, ok := matrixStatus(op)
			if !ok {
				t.Errorf("%s: not in the project matrix: say what each caller gets", op)
				continue
			}
			want := row[i]
			w := shared
			changes := strings.HasSuffix(want, "*")
			if changes {
				w = m.newWorld()
			}
			var status int
			var body []byte
			if op.String() == "GET /api/experiments/{id}/events" {
				status = statusOnly(t, c, m.path(op, w))
			} else {
				r := c.raw(op.method, m.path(op, w), m.body(op, w), nil)
				status, body = r.status, r.body
			}
			if fmt.Sprint(status) != strings.TrimSuffix(want, "*") {
				t.Errorf("%s: %s: %d %s, want %s", matrixCallers[i], op, status, body, want)
				continue
			}
			if status >= 300 {
				continue
			}
			if msg := m.checkBody(i, op, w, body, changes); msg != "" {
				t.Errorf("%s: %s: %s in %s", matrixCallers[i], op, msg, body)
			}
		}
	}
	after := m.snapshot(shared)
	// Keys were made meanwhile (POST /api/api-keys and the worlds' spare
	// keys); none of those there before went.
	for _, k := range strings.Split(before["keys"], "\n") {
		if !strings.Contains(after["keys"], k) {
			t.Errorf("key %s went", k)
		}
	}
	delete(before, "keys")
	sameSnapshot(t, "refused callers", before, after)
}

// checkBody checks what an allowed call returned or did: lists show the
// shared run to members only, deletes by id delete only what the caller
// may, and the changes that succeeded are there.
func (m *projectMatrixEnv) checkBody(caller int, op docOp, w world, body []byte, changed bool) string {
	member := caller <= 2
	if op.String() == "GET /api/projects" {
		member = member || matrixCallers[caller] == "write-only key" // the owner's, for every project
	}
	switch op.String() {
	case "GET /api/experiments", "GET /api/projects", "GET /api/export/scalars", "GET /api/export/rollouts":
		if show := strings.Contains(string(body), w.exp) || strings.Contains(string(body), `"`+w.name+`"`); show != member {
			return fmt.Sprintf("shows the shared run or project: %v", show)
		}
	case "DELETE /api/experiments", "DELETE /api/api-keys":
		want := `"deletedCount":0`
		if changed {
			want = `"deletedCount":1`
		}
		if !strings.Contains(string(body), want) {
			return "want " + want
		}
	}
	if !changed {
		return ""
	}
	// The change happened: read it back as the owner.
	prefix := "/api/experiments/" + w.exp
	switch op.String() {
	case "DELETE /api/experiments", "DELETE /api/experiments/{id}":
		if r := m.admin.do("GET", prefix, nil); r.status != 404 {
			return fmt.Sprintf("the run is still there (%d)", r.status)
		}
	case "DELETE /api/projects/{id}":
		if r := m.admin.do("GET", prefix, nil); r.status != 404 {
			return fmt.Sprintf("the project's run is still there (%d)", r.status)
		}
	case "PUT /api/experiments", "PUT /api/experiments/{id}":
		if r := m.admin.do("GET", prefix, nil); !strings.Contains(string(r.body), `"mine now"`) {
			return "the rename did not stick"
		}
	case "DELETE /api/projects/{id}/members/{userId}":
		if r := m.admin.do("GET", fmt.Sprintf("/api/projects/%d/members", w.project), nil); strings.Contains(string(r.body), m.emails["viewer"]) {
			return "the viewer is still a member"
		}
	case "PATCH /api/projects/{id}/members/{userId}":
		if r := m.admin.do("GET", fmt.Sprintf("/api/projects/%d/members", w.project), nil); strings.Contains(string(r.body), `"role":"viewer"`) {
			return "the viewer is still a viewer"
		}
	}
	return ""
}

// keyFor makes a key with the given request body and returns its secret.
func (e *env) keyFor(browser *client, req map[string]string) string {
	e.t.Helper()
	var k struct {
		Key string `json:"key"`
	}
	browser.must(201, "POST", "/api/api-keys", req, &k)
	return k.Key
}
