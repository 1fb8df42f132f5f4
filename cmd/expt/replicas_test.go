package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/postgres"
	"github.com/expt-logger/expt/postgres/pgtest"
)

// TestMain lets a test start real `expt serve` processes without building
// the binary: the test binary itself runs Run when EXPT_TEST_RUN_MAIN is set.
func TestMain(m *testing.M) {
	if os.Getenv("EXPT_TEST_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// startReplica runs `expt serve` on url in a child process and returns its
// base URL and the process, which the test may kill.
func startReplica(t *testing.T, url string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve", "--addr", "127.0.0.1:0", "--db", url, "--log-format", "json")
	cmd.Env = append(os.Environ(), "EXPT_TEST_RUN_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if addr, ok := strings.CutPrefix(sc.Text(), "expt listening on "); ok {
			go io.Copy(io.Discard, stderr) // keep the pipe drained
			return addr, cmd
		}
	}
	t.Fatalf("replica exited before listening: %v", sc.Err())
	return "", nil
}

// TestReplicasSurviveSIGKILL runs two `expt serve` processes on one
// database while several clients ingest scalars and rollouts through both,
// each batch under its own Idempotency-Key. Midway one replica is killed
// with SIGKILL; clients retry whatever failed against the other replica.
// Every point and every rollout must then exist exactly once, and both
// the surviving replica and the database must agree.
func TestReplicasSurviveSIGKILL(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	var out strings.Builder
	if _, _, err := runWith(t, "ci password\n", "users", "create", "--email", "ci@example.com", "--password-stdin", "--db", url); err != nil {
		t.Fatal(err)
	}
	if err := Run(ctx, []string{"keys", "create", "--name", "ci", "--db", url}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(out.String())
	a, procA := startReplica(t, url)
	b, _ := startReplica(t, url)
	replicas := []string{a, b}

	post := func(base, path, idem, body string) error {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		if idem != "" {
			req.Header.Set("Idempotency-Key", idem)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			msg, _ := io.ReadAll(resp.Body)
			return fmt.Errorf("%s: %d %s", path, resp.StatusCode, msg)
		}
		return nil
	}
	const exp = "7e57c0de-0000-4000-8000-000000000001"
	if err := post(a, "/api/experiments", "", `{"id":"`+exp+`","name":"kill"}`); err != nil {
		t.Fatal(err)
	}
	const clients, batches, points, rollouts = 4, 30, 200, 20
	var killOnce sync.Once
	var retried atomic.Int64
	var sent sync.WaitGroup
	sent.Add(clients * 5) // kill once every client has sent five batches
	go func() {
		sent.Wait()
		killOnce.Do(func() { _ = procA.Process.Signal(syscall.SIGKILL) })
	}()
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range batches {
				var sb, rb strings.Builder
				sb.WriteString(`{"scalars":[`)
				for j := range points {
					if j > 0 {
						sb.WriteByte(',')
					}
					fmt.Fprintf(&sb, `{"step":%d,"mode":"train","name":"c%d","value":%d}`, i*points+j, c, j)
				}
				sb.WriteString(`]}`)
				rb.WriteString(`{"rollouts":[`)
				for j := range rollouts {
					if j > 0 {
						rb.WriteByte(',')
					}
					fmt.Fprintf(&rb, `{"step":%d,"mode":"train","promptText":"p%d","messages":[{"role":"assistant","content":"c%d b%d r%d"}],"rewards":{"r":%d}}`, i, j%4, c, i, j, j)
				}
				rb.WriteString(`]}`)
				for _, req := range []struct{ path, idem, body string }{
					{"/api/experiments/" + exp + "/scalars", fmt.Sprintf("s-%d-%d", c, i), sb.String()},
					{"/api/experiments/" + exp + "/rollouts", fmt.Sprintf("r-%d-%d", c, i), rb.String()},
				} {
					// Start on this client's replica; on a failure retry, same key, on the other.
					var err error
					for attempt := range 20 {
						if err = post(replicas[(c+attempt)%2], req.path, req.idem, req.body); err == nil {
							break
						}
						retried.Add(1)
						time.Sleep(10 * time.Millisecond)
					}
					if err != nil {
						errs <- err
						return
					}
				}
				if i < 5 {
					sent.Done()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if retried.Load() == 0 {
		t.Fatal("no request failed over: the kill did not happen mid-ingest")
	}
	_ = procA.Wait()
	if ws, ok := procA.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("replica A ended with %v, want SIGKILL", procA.ProcessState)
	}

	db, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms, err := db.Metrics(ctx, exp)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != clients {
		t.Fatalf("%d series, want %d", len(ms), clients)
	}
	for _, m := range ms {
		if m.Count != batches*points || m.LastStep != batches*points-1 {
			t.Fatalf("series %+v: want %d points up to step %d", m, batches*points, batches*points-1)
		}
	}
	steps, err := db.RolloutSteps(ctx, exp)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, s := range steps {
		if s.Count != clients*rollouts {
			t.Fatalf("step %+v: want %d rollouts (none lost, none doubled)", s, clients*rollouts)
		}
		total += s.Count
	}
	page, more, err := db.Rollouts(ctx, expt.RolloutQuery{ExperimentID: exp, Limit: 10000})
	if err != nil || more || int64(len(page)) != total || total != clients*batches*rollouts {
		t.Fatalf("%d rollouts listed (more %v, %v), step counts say %d, want %d", len(page), more, err, total, clients*batches*rollouts)
	}
	seen := map[string]bool{}
	for _, r := range page {
		k := r.Messages[0].Content
		if seen[k] {
			t.Fatalf("rollout %q stored twice", k)
		}
		seen[k] = true
	}
	// The surviving replica answers from the same data.
	req, _ := http.NewRequest("GET", b+"/api/experiments/"+exp+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.Count(string(body), fmt.Sprintf(`"count":%d`, batches*points)) != clients {
		t.Fatalf("replica B metrics: %d %s", resp.StatusCode, body)
	}
}
