package http_test

import (
	"bufio"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	exhttp "github.com/expt-logger/expt/http"
)

// TestOtherUsersExperimentIs404 calls every experiment route as a user who
// does not own the experiment: each must answer exactly as for a missing one.
func TestOtherUsersExperimentIs404(t *testing.T) {
	e := newEnv(t, exhttp.Config{})
	_, keyA := e.user("a@example.com")
	browserB, keyB := e.user("b@example.com")
	a := e.withKey("Authorization", keyA)
	id := a.newExperiment(map[string]any{"name": "a's"})
	var wrote struct {
		IDs []int64 `json:"ids"`
	}
	a.must(200, "POST", "/api/experiments/"+id+"/rollouts", map[string]any{"rollouts": []map[string]any{
		{"step": 1, "mode": "train", "promptText": "p", "rewards": map[string]any{"r": 1}},
	}}, &wrote)
	missing := "0190c5a6-0000-7000-8000-000000000000"

	bodies := map[string]string{
		"POST /api/experiments/{id}/scalars":   `{"scalars":[{"step":1,"mode":"train","name":"x","value":1}]}`,
		"POST /api/experiments/{id}/rollouts":  `{"rollouts":[{"step":1,"mode":"train"}]}`,
		"PUT /api/experiments/{id}":            `{"status":"complete"}`,
		"DELETE /api/experiments/{id}":         `{}`,
		"DELETE /api/api-keys/{id}":            `{}`,
		"POST /api/experiments/{id}/errors":    `{"errors":[{"message":"boom"}]}`,
		"POST /api/experiments/{id}/env-logs":  `{"logs":[{"rolloutId":"r1","content":"out"}]}`,
		"GET /api/experiments/{id}/env-logs":   ``,
		"POST /api/experiments/{id}/heartbeat": `{}`,
	}
	n := 0
	for _, rt := range exhttp.Routes() {
		if !strings.HasPrefix(rt.Pattern, "/api/experiments/{id}") {
			continue
		}
		n++
		for _, c := range []*client{e.withKey("Authorization", keyB), e.withKey("x-api-key", keyB), browserB} {
			var got [2]response
			for i, target := range []string{id, missing} {
				path := strings.ReplaceAll(rt.Pattern, "{id}", target)
				path = strings.ReplaceAll(path, "{rolloutId}", fmt.Sprint(wrote.IDs[0]))
				body := bodies[rt.Method+" "+rt.Pattern]
				var b []byte
				if body != "" {
					b = []byte(body)
				}
				got[i] = c.raw(rt.Method, path, b, nil)
			}
			if got[0].status != 404 || got[1].status != 404 {
				t.Errorf("%s %s as another user: %d %s; missing: %d", rt.Method, rt.Pattern, got[0].status, got[0].body, got[1].status)
			}
			if strings.ReplaceAll(string(got[0].body), id, missing) != string(got[1].body) {
				t.Errorf("%s %s: other's %s differs from missing %s", rt.Method, rt.Pattern, got[0].body, got[1].body)
			}
		}
	}
	if n < 15 {
		t.Errorf("only %d experiment routes checked", n)
	}
	// The legacy PUT and the delete cannot reach it either.
	b := e.withKey("Authorization", keyB)
	if r := b.do("PUT", "/api/experiments", map[string]any{"id": id, "name": "mine now"}); r.status != 404 {
		t.Errorf("legacy PUT of another's: %d", r.status)
	}
	var del struct {
		DeletedCount int `json:"deletedCount"`
	}
	b.must(200, "DELETE", "/api/experiments", map[string]any{"id": id}, &del)
	if del.DeletedCount != 0 {
		t.Errorf("deleted another user's experiment")
	}
	var got struct{ Name string }
	a.must(200, "GET", "/api/experiments/"+id, nil, &got)
	if got.Name != "a's" {
		t.Errorf("owner sees %+v", got)
	}
}

// sse reads one experiment's event stream.
type sse struct {
	resp *http.Response
	rd   *bufio.Reader
}

func (e *env) stream(t *testing.T, key, id string) *sse {
	t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+"/api/experiments/"+id+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return &sse{resp, bufio.NewReader(resp.Body)}
}

// next returns the next event's type and data, skipping comments.
func (s *sse) next(t *testing.T) (typ, data string) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			s.resp.Body.Close() // unblock the read below
		}
	}()
	defer close(done)
	for {
		line, err := s.rd.ReadString('\n')
		if err != nil {
			t.Fatalf("read event: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "event: "):
			typ = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		case line == "" && typ != "":
			return typ, data
		}
	}
}

func TestEventsStream(t *testing.T) {
	e := newEnv(t, exhttp.Config{})
	_, key := e.user("a@example.com")
	c := e.withKey("Authorization", key)
	id := c.newExperiment(nil)
	exp := "/api/experiments/" + id
	s := e.stream(t, key, id)

	c.must(200, "POST", exp+"/scalars", map[string]any{"scalars": []map[string]any{
		{"step": 5, "mode": "train", "name": "loss", "value": "NaN", "ts": 1.5},
	}}, nil)
	typ, data := s.next(t)
	if typ != "scalars" || data != `{"scalars":[{"step":5,"mode":"train","name":"loss","value":"NaN","ts":1.5}]}` {
		t.Errorf("event %s %s", typ, data)
	}
	// A replayed batch is not news.
	c.raw("POST", exp+"/scalars", []byte(`{"scalars":[{"step":6,"mode":"train","name":"loss","value":1}]}`), map[string]string{"Idempotency-Key": "k1"})
	c.raw("POST", exp+"/scalars", []byte(`{"scalars":[{"step":6,"mode":"train","name":"loss","value":1}]}`), map[string]string{"Idempotency-Key": "k1"})
	c.must(200, "POST", exp+"/rollouts", map[string]any{"rollouts": []map[string]any{{"step": 7, "mode": "train", "promptText": "p"}}}, nil)
	c.must(200, "PUT", exp, map[string]any{"status": "complete"}, nil)
	var types []string
	for i := 0; i < 3; i++ {
		typ, data := s.next(t)
		types = append(types, typ)
		if typ == "experiment" && !strings.Contains(data, `"status":"complete"`) {
			t.Errorf("experiment event %s", data)
		}
	}
	if strings.Join(types, ",") != "scalars,rollouts,experiment" {
		t.Errorf("events = %v, want one scalars (not the replay), rollouts, experiment", types)
	}

	// Close ends the stream so that Shutdown need not wait for it.
	e.api.Close()
	if _, err := s.rd.ReadString('\n'); err == nil {
		for {
			if _, err := s.rd.ReadString('\n'); err != nil {
				break
			}
		}
	}
}

func TestRolloutQueries(t *testing.T) {
	e := newEnv(t, exhttp.Config{})
	_, key := e.user("a@example.com")
	c := e.withKey("Authorization", key)
	exp := "/api/experiments/" + c.newExperiment(nil)
	var rollouts []map[string]any
	for i := 0; i < 6; i++ {
		rollouts = append(rollouts, map[string]any{
			"step": i / 2, "mode": "train", "promptText": fmt.Sprintf("prompt %d", i/2),
			"messages": []map[string]any{{"role": "assistant", "content": fmt.Sprintf("answer number%d", i)}},
			"rewards":  []map[string]any{{"name": "correctness", "value": float64(i) / 5}},
		})
	}
	c.must(200, "POST", exp+"/rollouts", map[string]any{"rollouts": rollouts}, nil)

	var page struct {
		Rollouts []struct {
			Step    int64 `json:"step"`
			Rewards []struct {
				Value float64 `json:"value"`
			} `json:"rewards"`
		} `json:"rollouts"`
		More bool `json:"more"`
	}
	c.must(200, "GET", exp+"/rollouts?reward=correctness%3C0.5", nil, &page)
	if len(page.Rollouts) != 3 {
		t.Errorf("correctness<0.5 gave %d rollouts, want 3", len(page.Rollouts))
	}
	c.must(200, "GET", exp+"/rollouts?reward=correctness%3E%3D0.2&reward=correctness%3C0.6&limit=1", nil, &page)
	if len(page.Rollouts) != 1 || !page.More {
		t.Errorf("range page = %+v", page)
	}
	c.must(200, "GET", exp+"/rollouts?step=2", nil, &page)
	if len(page.Rollouts) != 2 {
		t.Errorf("step=2 gave %d", len(page.Rollouts))
	}
	c.must(200, "GET", exp+"/rollouts?sort=reward:correctness&order=desc&limit=2", nil, &page)
	if len(page.Rollouts) != 2 || page.Rollouts[0].Rewards[0].Value != 1 {
		t.Errorf("sorted page = %+v", page)
	}
	for _, bad := range []string{"reward=correctness", "step=-1", "sort=bogus", "limit=0", "order=sideways"} {
		param := strings.SplitN(bad, "=", 2)[0]
		if r := c.do("GET", exp+"/rollouts?"+bad, nil); r.status != 400 || !strings.HasPrefix(r.error(), param) {
			t.Errorf("%s: %d %s", bad, r.status, r.body)
		}
	}
	var groups struct {
		Groups []struct {
			Step    int64 `json:"step"`
			Count   int64 `json:"count"`
			Rewards []struct {
				Name string  `json:"name"`
				Mean float64 `json:"mean"`
			} `json:"rewards"`
		} `json:"groups"`
	}
	c.must(200, "GET", exp+"/rollouts/groups?mode=train", nil, &groups)
	if len(groups.Groups) != 3 || groups.Groups[0].Count != 2 || len(groups.Groups[0].Rewards) != 1 {
		t.Errorf("groups = %+v", groups)
	}
	var steps struct {
		Steps []struct {
			Mode        string
			Step, Count int64
		} `json:"steps"`
	}
	c.must(200, "GET", exp+"/rollouts/steps", nil, &steps)
	if len(steps.Steps) != 3 || steps.Steps[2].Count != 2 {
		t.Errorf("steps = %+v", steps)
	}
	var rewards struct {
		Steps []struct {
			Step    int64                   `json:"step"`
			Count   int64                   `json:"count"`
			Rewards []struct{ Name string } `json:"rewards"`
		} `json:"steps"`
	}
	c.must(200, "GET", exp+"/rewards?mode=train", nil, &rewards)
	if len(rewards.Steps) != 3 || rewards.Steps[1].Count != 2 || rewards.Steps[1].Rewards[0].Name != "correctness" {
		t.Errorf("rewards = %+v", rewards)
	}
	if r := c.do("GET", exp+"/rollouts/999999", nil); r.status != 404 {
		t.Errorf("missing rollout: %d", r.status)
	}
}
