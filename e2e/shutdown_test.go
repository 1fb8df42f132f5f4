package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMFinishesInFlightRequest: a batch whose body is still arriving
// when SIGTERM comes is read to the end, stored and acknowledged before the
// process exits 0.
func TestSIGTERMFinishesInFlightRequest(t *testing.T) {
	dir := t.TempDir()
	key := createKey(t, dir)
	p := startServer(t, nil, "--addr", "127.0.0.1:0", "--data", dir)
	c := &client{t: t, base: p.URL, auth: bearer(key)}
	id := createExperiment(c)

	body, err := json.Marshal(lossBatch(0, 300))
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	req, err := http.NewRequest("POST", p.URL+"/api/experiments/"+id+"/scalars", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = int64(len(body))
	type result struct {
		status int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := httpClient.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		resp.Body.Close()
		done <- result{status: resp.StatusCode}
	}()

	half := len(body) / 2
	if _, err := pw.Write(body[:half]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let the server start reading the request
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return strings.Contains(p.stderr.String(), "shutting down") })
	if _, err := pw.Write(body[half:]); err != nil {
		t.Fatalf("server stopped reading the request after SIGTERM: %v", err)
	}
	pw.Close()

	r := <-done
	if r.err != nil || r.status != 200 {
		t.Fatalf("in-flight batch: status %d, err %v; want 200", r.status, r.err)
	}
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatal("server did not exit after finishing the request")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d, want 0", code)
	}

	p2 := startServer(t, nil, "--addr", "127.0.0.1:0", "--data", dir)
	if n := countLoss(&client{t: t, base: p2.URL, auth: bearer(key)}, id); n != 300 {
		t.Fatalf("after restart: %d points of the in-flight batch, want 300", n)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
