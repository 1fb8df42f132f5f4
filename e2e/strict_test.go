package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	exhttp "github.com/expt-logger/expt/http"
)

// TestStrictJSONOnEveryWriteRoute walks every route that takes a JSON
// body: a repeated key is a 400 naming it, and a key in the wrong case is
// an unknown field (it was taken for the field), at the top and inside.
// A new write route fails this test until it is listed here.
func TestStrictJSONOnEveryWriteRoute(t *testing.T) {
	eachStore(t, func(t *testing.T, tg *target) {
		id := createExperiment(tg.c)
		exp := "/api/experiments/" + id
		var proj struct {
			ID int64 `json:"id"`
		}
		tg.c.must(201, "POST", "/api/projects", map[string]any{"name": "strict"}, &proj)
		var me struct {
			User struct {
				ID int64 `json:"id"`
			} `json:"user"`
		}
		tg.c.must(200, "GET", "/api/me", nil, &me)
		// A valid body per route, as raw JSON: the first key is repeated
		// and its case changed below; nested shows a key inside.
		bodies := map[string]struct{ body, key, nested string }{
			"POST /api/auth/sign-up/email":              {`{"email":"x@example.com","password":"long-enough-password"}`, "email", ""},
			"POST /api/auth/sign-in/email":              {`{"email":"x@example.com","password":"long-enough-password"}`, "email", ""},
			"POST /api/api-keys":                        {`{"name":"k"}`, "name", ""},
			"DELETE /api/api-keys":                      {`{"ids":["00000000-0000-0000-0000-000000000000"]}`, "ids", ""},
			"POST /api/experiments":                     {`{"name":"n","config":{"lr":1}}`, "name", `{"name":"n","config":{"lr":1,"lr":2}}`},
			"PUT /api/experiments":                      {`{"id":"` + id + `","name":"n"}`, "id", ""},
			"DELETE /api/experiments":                   {`{"ids":["00000000-0000-0000-0000-000000000000"]}`, "ids", ""},
			"PUT /api/experiments/{id}":                 {`{"name":"n"}`, "name", `{"config":{"a":{"b":1,"b":1}}}`},
			"POST /api/experiments/{id}/scalars":        {`{"scalars":[{"step":1,"mode":"train","name":"loss","value":1}]}`, "scalars", `{"scalars":[{"step":1,"STEP":2,"mode":"train","name":"loss","value":1}]}`},
			"POST /api/experiments/{id}/rollouts":       {`{"rollouts":[{"step":1,"mode":"train","messages":[{"role":"user","content":"q"}]}]}`, "rollouts", `{"rollouts":[{"step":1,"mode":"train","messages":[{"role":"user","content":"q","CONTENT":"other"}],"Mode":"x"}]}`},
			"POST /api/experiments/{id}/errors":         {`{"errors":[{"message":"boom"}]}`, "errors", `{"errors":[{"message":"boom","Message":"other"}]}`},
			"POST /api/experiments/{id}/env-logs":       {`{"logs":[{"rolloutId":"r","content":"c"}]}`, "logs", `{"logs":[{"rolloutId":"r","content":"c","content":"d"}]}`},
			"POST /api/projects":                        {`{"name":"strict-made"}`, "name", ""},
			"PATCH /api/projects/{id}":                  {`{"name":"strict-renamed"}`, "name", ""},
			"POST /api/projects/{id}/members":           {`{"email":"m@example.com","role":"viewer"}`, "email", ""},
			"PATCH /api/projects/{id}/members/{userId}": {`{"role":"owner"}`, "role", ""},
		}
		noBody := map[string]bool{"POST /api/auth/sign-out": true, "DELETE /api/api-keys/{id}": true, "DELETE /api/experiments/{id}": true,
			"DELETE /api/projects/{id}": true, "DELETE /api/projects/{id}/members/{userId}": true,
			"POST /api/experiments/{id}/heartbeat": true}
		send := func(method, path, body string) (int, string) {
			req, _ := http.NewRequest(method, tg.p.URL+path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tg.key)
			req.Header.Set("Origin", tg.p.URL)
			resp, err := httpClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		for _, rt := range exhttp.Routes() {
			name := rt.Method + " " + rt.Pattern
			if rt.Method == "GET" || noBody[name] {
				continue
			}
			c, ok := bodies[name]
			if !ok {
				t.Errorf("%s takes a body but has no case here", name)
				continue
			}
			path := strings.Replace(rt.Pattern, "/api/experiments/{id}", exp, 1)
			path = strings.Replace(path, "/api/projects/{id}", fmt.Sprintf("/api/projects/%d", proj.ID), 1)
			path = strings.Replace(path, "{userId}", fmt.Sprint(me.User.ID), 1)
			// Valid JSON with the first key repeated.
			var first json.RawMessage
			var top map[string]json.RawMessage
			if err := json.Unmarshal([]byte(c.body), &top); err != nil {
				t.Fatal(err)
			}
			first = top[c.key]
			rep := strings.TrimSuffix(c.body, "}") + fmt.Sprintf(`,%q:%s}`, c.key, first)
			if st, body := send(rt.Method, path, rep); st != 400 || !strings.Contains(body, "repeated key") {
				t.Errorf("%s with %q twice: %d %s", name, c.key, st, body)
			}
			wrong := strings.Replace(c.body, `"`+c.key+`"`, `"`+strings.ToUpper(c.key)+`"`, 1)
			if st, body := send(rt.Method, path, wrong); st != 400 || !strings.Contains(body, "unknown field") {
				t.Errorf("%s with %q as %q: %d %s", name, c.key, strings.ToUpper(c.key), st, body)
			}
			if c.nested != "" {
				if st, body := send(rt.Method, path, c.nested); st != 400 {
					t.Errorf("%s with a repeated or wrong-case key inside: %d %s", name, st, body)
				}
			}
		}

	})
}
