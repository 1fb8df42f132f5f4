package e2e

import (
	"fmt"
	"net/http"
	"reflect"
	"testing"
)

// TestOriginalProtocol walks through everything the published expt-logger
// client does, once with each way it presents the key.
func TestOriginalProtocol(t *testing.T) {
	dir := t.TempDir()
	p := startServer(t, nil, "--addr", "127.0.0.1:0", "--data", dir)
	key := createKey(t, dir)
	for _, tc := range []struct {
		name string
		auth func(*http.Request)
	}{
		{"x-api-key", xAPIKey(key)},
		{"bearer", bearer(key)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &client{t: t, base: p.URL, auth: tc.auth}
			walkProtocol(t, c)
		})
	}
}

func walkProtocol(t *testing.T, c *client) {
	var created struct {
		ExperimentID string `json:"experimentId"`
	}
	c.must(200, "POST", "/api/experiments", map[string]any{
		"name": "e2e-run", "config": map[string]any{"lr": 0.001, "model": "tiny"},
	}, &created)
	if created.ExperimentID == "" {
		t.Fatal("POST /api/experiments returned no experimentId")
	}
	exp := "/api/experiments/" + created.ExperimentID

	// The newest client names a metric "name", the oldest "type".
	c.must(200, "POST", exp+"/scalars", map[string]any{"scalars": []map[string]any{
		{"step": 1, "mode": "train", "name": "loss", "value": 2.5},
		{"step": 2, "mode": "train", "name": "loss", "value": 1.5},
		{"step": 1, "mode": "eval", "name": "acc", "value": 0.25},
	}}, nil)
	c.must(200, "POST", exp+"/scalars", map[string]any{"scalars": []map[string]any{
		{"step": 3, "mode": "train", "type": "kl", "value": 0.125},
	}}, nil)
	c.must(200, "POST", exp+"/rollouts", map[string]any{"rollouts": []map[string]any{{
		"step": 7, "mode": "train", "promptText": "What is 2+2?",
		"messages": []map[string]any{{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "4"}},
		"rewards":  []map[string]any{{"name": "correct", "value": 1.0}},
	}}}, nil)

	// The client sends the whole config again on every change.
	c.must(200, "PUT", exp, map[string]any{"config": map[string]any{"lr": 0.002, "model": "tiny", "seed": 3}}, nil)
	c.must(200, "PUT", exp, map[string]any{"status": "complete"}, nil)

	var got struct {
		ID     string         `json:"id"`
		Name   string         `json:"name"`
		Status string         `json:"status"`
		Config map[string]any `json:"config"`
	}
	c.must(200, "GET", exp, nil, &got)
	if got.ID != created.ExperimentID || got.Name != "e2e-run" || got.Status != "complete" {
		t.Errorf("GET experiment = %+v", got)
	}
	wantConfig := map[string]any{"lr": 0.002, "model": "tiny", "seed": 3.0}
	if !reflect.DeepEqual(got.Config, wantConfig) {
		t.Errorf("config = %v, want %v", got.Config, wantConfig)
	}

	var details struct {
		Name       string `json:"name"`
		LatestStep *int64 `json:"latestStep"`
	}
	c.must(200, "GET", exp+"/details", nil, &details)
	if details.LatestStep == nil || *details.LatestStep != 7 || details.Name != "e2e-run" {
		t.Errorf("details = name %q latestStep %v, want e2e-run and 7 (the rollout's step)", details.Name, fmtPtr(details.LatestStep))
	}

	var train map[string][]struct {
		Step  int64   `json:"step"`
		Value float64 `json:"value"`
	}
	c.must(200, "GET", exp+"/scalars?mode=train", nil, &train)
	if len(train["loss"]) != 2 || train["loss"][1].Step != 2 || train["loss"][1].Value != 1.5 {
		t.Errorf("train loss = %+v", train["loss"])
	}
	if len(train["kl"]) != 1 || train["kl"][0].Value != 0.125 {
		t.Errorf("train kl (sent as type) = %+v", train["kl"])
	}
	if _, ok := train["acc"]; ok {
		t.Errorf("mode=train returned the eval metric acc: %v", train)
	}

	var summary struct {
		Groups []map[string]any `json:"groups"`
	}
	c.must(200, "GET", exp+"/rollouts/summary?mode=train&page=1&limit=10", nil, &summary)
	if len(summary.Groups) != 1 {
		t.Errorf("rollout summary groups = %v, want 1", summary.Groups)
	}

	var deleted struct {
		DeletedCount int `json:"deletedCount"`
	}
	c.must(200, "DELETE", "/api/experiments", map[string]any{"id": created.ExperimentID}, &deleted)
	if deleted.DeletedCount != 1 {
		t.Errorf("deletedCount = %d, want 1", deleted.DeletedCount)
	}
	if code := c.do("GET", exp, nil, nil); code != 404 {
		t.Errorf("GET deleted experiment: %d, want 404", code)
	}
}

func TestWrongOrMissingKeyIs401(t *testing.T) {
	dir := t.TempDir()
	p := startServer(t, nil, "--addr", "127.0.0.1:0", "--data", dir)
	createKey(t, dir)
	for name, auth := range map[string]func(*http.Request){
		"none":      nil,
		"wrong":     bearer("expt_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
		"wrong-old": xAPIKey("not-a-key"),
	} {
		c := &client{t: t, base: p.URL, auth: auth}
		var body struct {
			Error string `json:"error"`
		}
		if code := c.do("POST", "/api/experiments", map[string]any{}, &body); code != 401 || body.Error == "" {
			t.Errorf("%s: status %d, error %q; want 401 with a message", name, code, body.Error)
		}
	}
}

func TestHealthAndPlaceholderUI(t *testing.T) {
	p := startServer(t, nil, "--addr", "127.0.0.1:0", "--data", t.TempDir())
	for _, path := range []string{"/api/health", "/"} {
		resp, err := httpClient.Get(p.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
		}
	}
}

func fmtPtr(p *int64) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}
