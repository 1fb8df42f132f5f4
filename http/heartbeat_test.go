package http_test

import (
	"testing"
	"time"

	exhttp "github.com/expt-logger/expt/http"
)

// TestSilentHeartbeatMarksCrashed: an active run whose heartbeat stops is
// marked crashed (and listed so), a heartbeat revives it, a run that never
// sent one stays active, and a run that ended is left alone.
func TestSilentHeartbeatMarksCrashed(t *testing.T) {
	e := newEnv(t, exhttp.Config{CrashAfter: 300 * time.Millisecond})
	_, key := e.user("a@example.com")
	c := e.withKey("Authorization", key)
	beating := c.newExperiment(map[string]any{"name": "beating"})
	silent := c.newExperiment(map[string]any{"name": "published client"}) // never beats
	ended := c.newExperiment(map[string]any{"name": "ended"})
	for _, id := range []string{beating, ended} {
		var hb struct{ Status string }
		c.must(200, "POST", "/api/experiments/"+id+"/heartbeat", nil, &hb)
		if hb.Status != "active" {
			t.Fatalf("heartbeat answered %q", hb.Status)
		}
	}
	c.must(200, "PUT", "/api/experiments/"+ended, map[string]string{"status": "complete"}, nil)
	status := func(id string) string {
		var x struct{ Status string }
		c.must(200, "GET", "/api/experiments/"+id, nil, &x)
		return x.Status
	}
	deadline := time.Now().Add(10 * time.Second)
	for status(beating) != "crashed" {
		if time.Now().After(deadline) {
			t.Fatalf("a silent run is %q after 10 s", status(beating))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if s1, s2 := status(silent), status(ended); s1 != "active" || s2 != "complete" {
		t.Fatalf("without heartbeats: %q; ended: %q", s1, s2)
	}
	var list struct {
		Experiments []struct{ ID string } `json:"experiments"`
	}
	c.must(200, "GET", "/api/experiments?status=crashed", nil, &list)
	if len(list.Experiments) != 1 || list.Experiments[0].ID != beating {
		t.Fatalf("status=crashed lists %+v", list.Experiments)
	}
	var hb struct{ Status string }
	c.must(200, "POST", "/api/experiments/"+beating+"/heartbeat", nil, &hb)
	if hb.Status != "active" || status(beating) != "active" {
		t.Fatalf("a heartbeat on a crashed run: %q, then %q", hb.Status, status(beating))
	}
	// A client may not set crashed itself.
	c.must(400, "PUT", "/api/experiments/"+silent, map[string]string{"status": "crashed"}, nil)
}
