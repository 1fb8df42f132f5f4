package http_test

import (
	"encoding/json"
	"strings"
	"testing"

	exhttp "github.com/expt-logger/expt/http"
)

// TestRolloutPreviews: view=preview sends no messages and what the table
// shows, read with the caller's reasoning tags; bad views and tags are 400s.
func TestRolloutPreviews(t *testing.T) {
	e := newEnv(t, exhttp.Config{})
	_, key := e.user("p@example.com")
	c := e.withKey("Authorization", key)
	id := c.newExperiment(map[string]any{"name": "previews"})
	long := strings.Repeat("checking the cases ", 1000)
	answer := "<think>" + long + "</think> So \\boxed{7}. <scratch>x</scratch>"
	c.must(200, "POST", "/api/experiments/"+id+"/rollouts", map[string]any{"rollouts": []map[string]any{
		{"step": 1, "mode": "train", "promptText": "p", "messages": []any{
			map[string]any{"role": "user", "content": "p"},
			map[string]any{"role": "assistant", "content": answer},
		}, "rewards": map[string]any{"r": 1}},
	}}, nil)

	type page struct {
		Rollouts []struct {
			Messages []json.RawMessage `json:"messages"`
			Rewards  []map[string]any  `json:"rewards"`
			Preview  *struct {
				Answer   string `json:"answer"`
				Boxed    string `json:"boxed"`
				Chars    int    `json:"chars"`
				Messages int    `json:"messages"`
			} `json:"preview"`
		} `json:"rollouts"`
	}
	var full, pre, custom page
	c.must(200, "GET", "/api/experiments/"+id+"/rollouts?step=1", nil, &full)
	if len(full.Rollouts) != 1 || len(full.Rollouts[0].Messages) != 2 || full.Rollouts[0].Preview != nil {
		t.Fatalf("full view = %+v", full)
	}
	r := c.must(200, "GET", "/api/experiments/"+id+"/rollouts?step=1&view=preview", nil, &pre)
	p := pre.Rollouts[0]
	if len(p.Messages) != 0 || p.Preview == nil || len(p.Rewards) != 1 {
		t.Fatalf("preview view = %+v", pre)
	}
	if *p.Preview != (struct {
		Answer   string `json:"answer"`
		Boxed    string `json:"boxed"`
		Chars    int    `json:"chars"`
		Messages int    `json:"messages"`
	}{Answer: `So \boxed{7}. <scratch>x</scratch>`, Boxed: "7", Chars: len(answer), Messages: 2}) {
		t.Fatalf("preview = %+v", *p.Preview)
	}
	if len(r.body) > 1000 {
		t.Fatalf("a preview of a %d-byte rollout is %d bytes", len(long), len(r.body))
	}
	c.must(200, "GET", "/api/experiments/"+id+"/rollouts?step=1&view=preview&reasoningTags=think,Scratch", nil, &custom)
	if got := custom.Rollouts[0].Preview.Answer; got != `So \boxed{7}.` {
		t.Fatalf("with the scratch tag: %q", got)
	}
	for _, bad := range []string{"view=brief", "view=preview&reasoningTags=<b>", "view=preview&reasoningTags=think,,x", "view=preview&reasoningTags=" + strings.Repeat("t,", 30) + "t"} {
		r := c.do("GET", "/api/experiments/"+id+"/rollouts?"+bad, nil)
		if r.status != 400 || !strings.Contains(r.error(), "view") && !strings.Contains(r.error(), "reasoningTags") {
			t.Errorf("%s: %d %s", bad, r.status, r.body)
		}
	}
}
