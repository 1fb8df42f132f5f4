package http

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/expt-logger/expt"
)

// oneExperimentStore knows one user, one key and one experiment: enough to
// reach the event stream without a database.
type oneExperimentStore struct {
	expt.Store
	id string
}

func (s oneExperimentStore) UserByAPIKey(_ context.Context, hash []byte) (*expt.User, *expt.APIKey, error) {
	if string(hash) != string(expt.HashToken("expt_k")) {
		return nil, nil, expt.Errorf(expt.ENOTFOUND, "no key")
	}
	return &expt.User{ID: 1}, &expt.APIKey{}, nil
}

func (s oneExperimentStore) Experiment(_ context.Context, id string) (*expt.Experiment, error) {
	if id != s.id {
		return nil, expt.Errorf(expt.ENOTFOUND, "experiment not found")
	}
	return &expt.Experiment{ID: id, UserID: 1, ProjectID: 1}, nil
}

func (s oneExperimentStore) Role(_ context.Context, projectID, userID int64) (expt.Role, error) {
	if projectID != 1 || userID != 1 {
		return "", nil
	}
	return expt.RoleOwner, nil
}

func openStream(t *testing.T, srv *httptest.Server, id string) *bufio.Reader {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+"/api/experiments/"+id+"/events", nil)
	req.Header.Set("x-api-key", "expt_k")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	rd := bufio.NewReader(resp.Body)
	if line, _ := rd.ReadString('\n'); line != ": connected\n" {
		t.Fatalf("first line %q", line)
	}
	rd.ReadString('\n')
	return rd
}

// readUntilEOF reads the rest of the stream and fails if it does not end soon.
func readUntilEOF(t *testing.T, rd *bufio.Reader) string {
	t.Helper()
	got := make(chan string, 1)
	go func() {
		var b strings.Builder
		for {
			line, err := rd.ReadString('\n')
			b.WriteString(line)
			if err != nil {
				got <- b.String()
				return
			}
		}
	}()
	select {
	case s := <-got:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("stream did not end")
		return ""
	}
}

func TestEventStreamLifecycle(t *testing.T) {
	old := keepAlive
	keepAlive = 20 * time.Millisecond
	defer func() { keepAlive = old }()

	id := "0190c5a6-0000-7000-8000-000000000001"
	bus := NewEventBus()
	s := NewServer(Config{Store: oneExperimentStore{id: id}, Events: bus})
	srv := httptest.NewServer(s)
	defer srv.Close()

	// Idle streams carry keep-alive comments.
	rd := openStream(t, srv, id)
	if line, err := rd.ReadString('\n'); err != nil || line != ": keep-alive\n" {
		t.Errorf("idle stream sent %q, %v", line, err)
	}

	// A watcher that stops reading is dropped, and its stream ends, instead
	// of holding up the writer.
	slow := openStream(t, srv, id)
	big := make([]expt.Scalar, 2000)
	done := make(chan struct{})
	go func() {
		for i := 0; i < 10*subscriberBuffer; i++ {
			bus.Publish(context.Background(), expt.Event{Type: expt.EventScalars, ExperimentID: id, Scalars: big})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second): // a hang, not a speed limit: CI machines share their cores
		t.Fatal("publishing blocked on a slow watcher")
	}
	if out := readUntilEOF(t, slow); !strings.Contains(out, "event: scalars") {
		t.Errorf("slow watcher got no events before being dropped")
	}

	// Close ends the remaining streams.
	s.Close()
	readUntilEOF(t, rd)

	// Streams of experiments one may not see are 404s before any headers.
	req, _ := http.NewRequest("GET", srv.URL+"/api/experiments/0190c5a6-0000-7000-8000-000000000002/events", nil)
	req.Header.Set("x-api-key", "expt_k")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("other experiment's stream: %d", resp.StatusCode)
	}
}
