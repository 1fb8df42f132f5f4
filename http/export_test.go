package http_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/expt-logger/expt"
	exhttp "github.com/expt-logger/expt/http"
)

// TestExportRefusesBadParametersBeforeStreaming: each bad parameter is a
// 400 with a JSON error naming it, never a half-written file.
func TestExportRefusesBadParametersBeforeStreaming(t *testing.T) {
	e := newEnv(t, exhttp.Config{})
	_, key := e.user("a@example.com")
	c := e.withKey("Authorization", key)
	o := e.ownedExperiment(c, "a@example.com")
	for _, bad := range []struct{ path, field string }{
		{"/export/scalars?format=xlsx", "format"},
		{"/export/scalars?shape=tall", "shape"},
		{"/export/scalars?key=loss", "key"},
		{"/export/scalars?from=9&to=2", "from"},
		{"/export/rollouts?step=-1", "step"},
		{"/export/rollouts?format=parquet&to=x", "to"},
	} {
		r := c.raw("GET", o.expPrefix+bad.path, nil, nil)
		if r.status != 400 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") || !strings.Contains(r.error(), bad.field) {
			t.Errorf("%s: %d %s %q, want 400 naming %s", bad.path, r.status, r.header.Get("Content-Type"), r.body, bad.field)
		}
	}
	for _, bad := range []string{"/api/export/scalars?experiment=" + expt.NewUUID(), "/api/export/rollouts?project=nope"} {
		if r := c.raw("GET", bad, nil, nil); r.status != 404 {
			t.Errorf("%s: %d %s, want 404", bad, r.status, r.body)
		}
	}
}

// TestExportJSONLines: the long and wide shapes and the rollouts as JSON
// Lines, NaN as the wire's string, a metric not logged at a step absent
// (null) in the wide shape, the download named for the experiment.
func TestExportJSONLines(t *testing.T) {
	e := newEnv(t, exhttp.Config{})
	_, key := e.user("a@example.com")
	c := e.withKey("Authorization", key)
	o := e.ownedExperiment(c, "a@example.com")
	lines := func(path string) ([]map[string]any, http.Header) {
		t.Helper()
		r := c.must(200, "GET", o.expPrefix+path, nil, nil)
		var out []map[string]any
		for _, l := range strings.Split(strings.TrimSpace(string(r.body)), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("%s: line %q: %v", path, l, err)
			}
			out = append(out, m)
		}
		return out, r.header
	}
	long, h := lines("/export/scalars")
	if got := fmt.Sprint(long); got != fmt.Sprintf("[map[experiment:%[1]s mode:eval name:acc step:2 ts:0 value:0.9] map[experiment:%[1]s mode:train name:loss step:1 ts:0 value:0.5] map[experiment:%[1]s mode:train name:loss step:2 ts:0 value:NaN]]", o.exp) {
		t.Fatalf("long: %s", got)
	}
	if cd := h.Get("Content-Disposition"); cd != `attachment; filename=`+o.exp+`-scalars.jsonl` {
		t.Errorf("Content-Disposition %q", cd)
	}
	wide, _ := lines("/export/scalars?shape=wide")
	if got := fmt.Sprint(wide); got != fmt.Sprintf("[map[eval/acc:<nil> experiment:%[1]s step:1 train/loss:0.5 ts:0] map[eval/acc:0.9 experiment:%[1]s step:2 train/loss:NaN ts:0]]", o.exp) {
		t.Fatalf("wide: %s", got)
	}
	wide, _ = lines("/export/scalars?shape=wide&key=eval/acc&from=2")
	if len(wide) != 1 || len(wide[0]) != 4 || wide[0]["eval/acc"] != 0.9 {
		t.Fatalf("wide, one key from step 2: %v", wide)
	}
	rs, _ := lines("/export/rollouts")
	if len(rs) != 2 || rs[0]["reward/r"] != 1.0 || rs[1]["reward/r"] != 0.0 || rs[0]["client_id"] != "r1" || rs[0]["group"] != nil {
		t.Fatalf("rollouts: %v", rs)
	}
}

// TestExportSlotsShedLoad: exports beyond the server's few slots are
// answered 503 with Retry-After while the others stream, and a client that
// stops reading is dropped after the stream timeout, freeing its slot.
func TestExportSlotsShedLoad(t *testing.T) {
	e := newEnv(t, exhttp.Config{StreamWriteTimeout: 500 * time.Millisecond})
	_, key := e.user("a@example.com")
	c := e.withKey("Authorization", key)
	id := c.newExperiment(map[string]any{"name": "big"})
	// About 30 MB of JSON Lines: more than the socket buffers hold.
	for b := 0; b < 4; b++ {
		var sc []map[string]any
		for i := 0; i < 50_000; i++ {
			sc = append(sc, map[string]any{"step": b*50_000 + i, "mode": "train", "name": strings.Repeat("metric-with-a-long-name-", 4), "value": 0.5})
		}
		c.must(200, "POST", "/api/experiments/"+id+"/scalars", map[string]any{"scalars": sc}, nil)
	}
	path := e.srv.URL + "/api/experiments/" + id + "/export/scalars"
	var stalled []*http.Response
	for range 4 {
		req, _ := http.NewRequestWithContext(context.Background(), "GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("export: %v %v", err, resp)
		}
		bufio.NewReader(resp.Body).Peek(1) // started, then never read again
		stalled = append(stalled, resp)
	}
	r := c.raw("GET", "/api/experiments/"+id+"/export/scalars", nil, nil)
	if r.status != 503 || r.header.Get("Retry-After") == "" || !strings.Contains(r.error(), "exports") {
		t.Fatalf("a fifth export: %d %q %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	// The stalled ones are dropped after the stream timeout; a slot frees.
	deadline := time.Now().Add(20 * time.Second)
	for {
		r = c.raw("GET", "/api/experiments/"+id+"/export/scalars?format=csv&from=0&to=10", nil, nil)
		if r.status == 200 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r.status != 200 || strings.Count(string(r.body), "\n") != 12 {
		t.Fatalf("after the stalled exports were dropped: %d, %d lines", r.status, strings.Count(string(r.body), "\n"))
	}
	for _, resp := range stalled {
		resp.Body.Close()
	}
}

// TestExperimentListPagesByKey: a full page carries next; following it
// gives the rest in order, each once; a bad cursor is a 400 naming after.
func TestExperimentListPagesByKey(t *testing.T) {
	e := newEnv(t, exhttp.Config{})
	_, key := e.user("a@example.com")
	c := e.withKey("Authorization", key)
	var made []string
	for i := range 7 {
		made = append(made, c.newExperiment(map[string]any{"name": fmt.Sprintf("run-%d", i%3)}))
	}
	var got []string
	path := "/api/experiments?limit=3&sort=name&order=asc"
	for pages := 0; pages < 10; pages++ {
		var page struct {
			Experiments []struct{ ID string }
			Total       int
			Next        string
		}
		c.must(200, "GET", path, nil, &page)
		for _, x := range page.Experiments {
			got = append(got, x.ID)
		}
		if page.Total != 7 {
			t.Fatalf("total %d", page.Total)
		}
		if page.Next == "" {
			break
		}
		path = "/api/experiments?limit=3&sort=name&order=asc&after=" + page.Next
	}
	var all struct{ Experiments []struct{ ID string } }
	c.must(200, "GET", "/api/experiments?limit=100&sort=name&order=asc", nil, &all)
	if len(got) != len(made) || fmt.Sprint(got) != fmt.Sprint(func() []string {
		var ids []string
		for _, x := range all.Experiments {
			ids = append(ids, x.ID)
		}
		return ids
	}()) {
		t.Fatalf("by key %v, in one page %v", got, all.Experiments)
	}
	for _, bad := range []string{"after=nope", "after=e30", "after=" + strings.Repeat("A", 5000), "offset=3&after=eyJpIjoieCJ9"} {
		if r := c.raw("GET", "/api/experiments?"+bad, nil, nil); r.status != 400 || !strings.Contains(r.error(), "after") {
			t.Errorf("%s: %d %s", bad, r.status, r.body)
		}
	}
}
