package e2e

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// sse is one open /events stream read line by line.
type sse struct {
	resp  *http.Response
	lines chan string // closed when the stream ends
}

func openStream(t *testing.T, base, path string, hdr map[string]string) *sse {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{}).Do(req) // no timeout: the stream is endless
	if err != nil {
		t.Fatalf("open stream: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("open stream: %d", resp.StatusCode)
	}
	s := &sse{resp: resp, lines: make(chan string, 10000)}
	go func() {
		defer close(s.lines)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() { resp.Body.Close() })
	return s
}

// next returns the next line starting with prefix, or fails after timeout.
func (s *sse) next(t *testing.T, prefix string, timeout time.Duration) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				t.Fatalf("stream ended waiting for %q", prefix)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-deadline:
			t.Fatalf("no %q line within %v", prefix, timeout)
		}
	}
}

// ends waits for the stream to end, returning the data lines it still sent.
func (s *sse) ends(t *testing.T, within time.Duration) []string {
	t.Helper()
	var data []string
	deadline := time.After(within)
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				return data
			}
			if strings.HasPrefix(l, "data:") {
				data = append(data, l)
			}
		case <-deadline:
			t.Fatalf("stream still open %v later", within)
		}
	}
}

// TestStreamEndsWithItsCredentials: a stream opened with a key ends within
// 5 s of the key's revocation, and sends nothing written after it; the same
// for a signed-out session and for a deleted experiment.
func TestStreamEndsWithItsCredentials(t *testing.T) {
	eachStore(t, func(t *testing.T, tg *target) {
		id := createExperiment(tg.c)
		events := "/api/experiments/" + id + "/events"

		// A second key, watched with, then revoked with the first.
		var k struct{ ID, Key string }
		tg.c.must(http.StatusCreated, "POST", "/api/api-keys", map[string]string{"name": "watcher"}, &k)
		s := openStream(t, tg.p.URL, events, map[string]string{"Authorization": "Bearer " + k.Key})
		s.next(t, ": connected", 5*time.Second)
		tg.c.must(http.StatusOK, "DELETE", "/api/api-keys/"+k.ID, nil, nil)
		postLoss(tg.c, id, 0, 3)
		if data := s.ends(t, 5*time.Second); len(data) != 0 {
			t.Errorf("the revoked key's stream delivered %d events written after the revocation", len(data))
		}

		// A browser session, signed out.
		email := fmt.Sprintf("watch-%d@example.com", time.Now().UnixNano())
		signup, _ := http.NewRequest("POST", tg.p.URL+"/api/auth/sign-up/email",
			strings.NewReader(`{"email":"`+email+`","password":"correct-horse-battery"}`))
		signup.Header.Set("Content-Type", "application/json")
		resp, err := httpClient.Do(signup)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("sign up: %v %v", resp, err)
		}
		resp.Body.Close()
		cookie := resp.Cookies()[0]
		session := &client{t: t, base: tg.p.URL, auth: func(r *http.Request) {
			r.AddCookie(cookie)
			r.Header.Set("Origin", tg.p.URL)
		}}
		own := createExperiment(session)
		s = openStream(t, tg.p.URL, "/api/experiments/"+own+"/events", map[string]string{"Cookie": cookie.Name + "=" + cookie.Value})
		s.next(t, ": connected", 5*time.Second)
		session.must(http.StatusOK, "POST", "/api/auth/sign-out", map[string]any{}, nil)
		s.ends(t, 5*time.Second)

		// A viewer of a shared project, removed from it by its owner.
		viewer := fmt.Sprintf("viewer-%d@example.com", time.Now().UnixNano())
		signup, _ = http.NewRequest("POST", tg.p.URL+"/api/auth/sign-up/email",
			strings.NewReader(`{"email":"`+viewer+`","password":"correct-horse-battery"}`))
		signup.Header.Set("Content-Type", "application/json")
		if resp, err = httpClient.Do(signup); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("sign up: %v %v", resp, err)
		}
		resp.Body.Close()
		cookie = resp.Cookies()[0]
		name := fmt.Sprintf("shared-%d", time.Now().UnixNano())
		var proj struct {
			ID int64 `json:"id"`
		}
		tg.c.must(http.StatusCreated, "POST", "/api/projects", map[string]string{"name": name}, &proj)
		var member struct {
			UserID int64 `json:"userId"`
		}
		tg.c.must(http.StatusCreated, "POST", fmt.Sprintf("/api/projects/%d/members", proj.ID), map[string]string{"email": viewer, "role": "viewer"}, &member)
		var shared struct {
			ExperimentID string `json:"experimentId"`
		}
		tg.c.must(http.StatusOK, "POST", "/api/experiments", map[string]any{"name": "shared", "project": name}, &shared)
		s = openStream(t, tg.p.URL, "/api/experiments/"+shared.ExperimentID+"/events", map[string]string{"Cookie": cookie.Name + "=" + cookie.Value})
		s.next(t, ": connected", 5*time.Second)
		tg.c.must(http.StatusOK, "DELETE", fmt.Sprintf("/api/projects/%d/members/%d", proj.ID, member.UserID), nil, nil)
		postLoss(tg.c, shared.ExperimentID, 0, 3)
		if data := s.ends(t, 5*time.Second); len(data) != 0 {
			t.Errorf("the removed member's stream delivered %d events written after the removal", len(data))
		}

		// The experiment deleted.
		s = openStream(t, tg.p.URL, events, map[string]string{"Authorization": "Bearer " + tg.key})
		s.next(t, ": connected", 5*time.Second)
		tg.c.must(http.StatusOK, "DELETE", "/api/experiments/"+id, nil, nil)
		s.ends(t, 5*time.Second)
	})
}

// TestStreamResumesWithLastEventID: a watcher that reconnects with the id
// of the last event it read gets exactly the events written meanwhile; an
// id the server no longer knows gets a reset.
func TestStreamResumesWithLastEventID(t *testing.T) {
	eachStore(t, func(t *testing.T, tg *target) {
		id := createExperiment(tg.c)
		events := "/api/experiments/" + id + "/events"
		auth := map[string]string{"Authorization": "Bearer " + tg.key}
		s := openStream(t, tg.p.URL, events, auth)
		s.next(t, ": connected", 5*time.Second)
		postLoss(tg.c, id, 0, 1)
		last := strings.TrimPrefix(s.next(t, "id: ", 5*time.Second), "id: ")
		s.resp.Body.Close()
		for i := 1; i <= 5; i++ {
			postLoss(tg.c, id, i, 1)
		}
		r := openStream(t, tg.p.URL, events, map[string]string{"Authorization": "Bearer " + tg.key, "Last-Event-ID": last})
		for i := 1; i <= 5; i++ {
			if d := r.next(t, "data: ", 5*time.Second); !strings.Contains(d, fmt.Sprintf(`"step":%d,`, i)) {
				t.Fatalf("resumed event %d: %s", i, d)
			}
		}
		stale := openStream(t, tg.p.URL, events, map[string]string{"Authorization": "Bearer " + tg.key, "Last-Event-ID": "00000000-1"})
		stale.next(t, "event: reset", 5*time.Second)
	})
}

// TestStuckWatchersShareOneEvent: 100 streams that never read, and a
// 16 MB rollout batch. The event is encoded once and shared (it was
// encoded per watcher: about 4 GB), and the stuck watchers are dropped when
// their writes stall. What the watchers add is measured against the same
// batch sent with nobody watching: the batch's own cost is the store's.
func TestStuckWatchersShareOneEvent(t *testing.T) {
	eachStore(t, func(t *testing.T, tg *target) {
		id := createExperiment(tg.c)
		// 16 rollouts of 1 MB: a long reasoning trace each.
		trace := "<think>" + strings.Repeat("Let me check the algebra again: $x^2 + 2x + 1 = (x+1)^2$. ", 17000) + "</think> 42"
		batch := func(step int) map[string]any {
			var rollouts []map[string]any
			for i := range 16 {
				rollouts = append(rollouts, map[string]any{"step": step, "mode": "train", "promptText": fmt.Sprintf("problem %d", i),
					"messages": []map[string]any{{"role": "assistant", "content": trace}}, "rewards": map[string]float64{"correct": 1}})
			}
			return map[string]any{"rollouts": rollouts}
		}
		measure := func(step int) int64 {
			stop := make(chan struct{})
			peak := tg.p.peakRSS(t, stop)
			tg.c.must(http.StatusOK, "POST", "/api/experiments/"+id+"/rollouts", batch(step), nil)
			time.Sleep(3 * time.Second) // stuck watchers' writes time out after 2 s
			close(stop)
			return <-peak
		}
		base := tg.p.rss(t)
		alone := measure(1) - base

		head := fmt.Sprintf("GET /api/experiments/%s/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n", id, tg.key)
		for range 100 {
			c := rawRequest(t, tg.p.URL, head, "")
			c.(*net.TCPConn).SetReadBuffer(4 << 10)
			defer c.Close()
		}
		time.Sleep(500 * time.Millisecond) // every stream subscribed
		watched := measure(2) - base
		if watched-alone > 200<<20 {
			t.Errorf("100 stuck watchers added %d MB to a 16 MB batch (%d MB alone, %d MB watched), want under 200 MB",
				(watched-alone)>>20, alone>>20, watched>>20)
		}
		t.Logf("16 MB batch: memory grew %d MB alone, %d MB with 100 stuck watchers", alone>>20, watched>>20)
		// A reading watcher still works.
		s := openStream(t, tg.p.URL, "/api/experiments/"+id+"/events", map[string]string{"Authorization": "Bearer " + tg.key})
		s.next(t, ": connected", 5*time.Second)
		postLoss(tg.c, id, 5, 1)
		s.next(t, "data: ", 5*time.Second)
	}, "--stream-timeout", "2s")
}
