package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/expt-logger/expt/api"
	exptclient "github.com/expt-logger/expt/client"
)

// longRollout is a realistic completion: reasoning, LaTeX and code, 6-7 KB.
func longRollout(i int) api.RolloutIn {
	think := strings.Repeat(fmt.Sprintf("Consider $x_{%d}^2 - %d = 0$; then check `x = %d`. ", i, i*i, i), 120)
	answer := fmt.Sprintf("<think>%s</think>\n```python\nprint(%d ** 2)\n```\nSo $\\boxed{%d}$.", think, i, i)
	msg, _ := json.Marshal(map[string]string{"role": "assistant", "content": answer})
	return api.RolloutIn{Step: int64(i / 16), Mode: "train", PromptText: fmt.Sprintf("Solve $x^2 = %d$.", (i%4)*(i%4)),
		Messages: []api.Message{msg}, Rewards: []api.Reward{{Name: "correct", Value: api.Num(float64(i % 2))}},
		Metadata: json.RawMessage(fmt.Sprintf(`{"sample":%d}`, i%16))}
}

// TestGoClientLogsAndReadsBack: a Go program logs through client.Run into
// the real binary (points with NaN and infinities, 64 rollouts of 6 KB in
// groups), and reads everything back through the client: metrics, summary,
// rollouts page by page, an export; then deletes the run.
func TestGoClientLogsAndReadsBack(t *testing.T) {
	data := t.TempDir()
	key := createKey(t, data)
	p := startServer(t, nil, "--data", data)
	ctx := context.Background()
	c := exptclient.New(p.URL, key)
	me, err := c.Me(ctx)
	if err != nil || me.Email != e2eUser {
		t.Fatalf("Me: %v %v", me, err)
	}
	run, err := c.Start(ctx, exptclient.RunOptions{Name: "env-eval", Project: "evals", Config: map[string]any{"k": 8}})
	if err != nil {
		t.Fatal(err)
	}
	special := []float64{math.NaN(), math.Inf(1), math.Inf(-1)}
	for step := range 3000 {
		v := float64(step) / 10
		if step < 3 {
			v = special[step]
		}
		run.Log(int64(step), map[string]float64{"eval/pass@1": v, "latency_ms": float64(step % 97)})
	}
	for i := range 64 {
		run.LogRollout(longRollout(i))
	}
	if err := run.End(ctx, "complete"); err != nil {
		t.Fatal(err)
	}
	if run.Dropped() != 0 || !strings.Contains(run.URL(), run.ID) {
		t.Fatalf("dropped %d, url %q", run.Dropped(), run.URL())
	}
	e, err := c.Experiment(ctx, run.ID)
	if err != nil || e.Status != "complete" || string(e.Config) != `{"k":8}` {
		t.Fatalf("Experiment: %+v %v", e, err)
	}
	ms, err := c.Metrics(ctx, run.ID)
	if err != nil || len(ms) != 2 || ms[0].Count != 3000 || ms[1].Count != 3000 {
		t.Fatalf("Metrics: %+v %v", ms, err)
	}
	sum, err := c.Summary(ctx, run.ID)
	if err != nil || float64(sum["eval/pass@1"].Value) != 299.9 || sum["train/latency_ms"].Step != 2999 {
		t.Fatalf("Summary: %+v %v", sum, err)
	}
	n := 0
	for r, err := range c.Rollouts(ctx, run.ID, exptclient.RolloutQuery{Limit: 10}) {
		if err != nil {
			t.Fatal(err)
		}
		want := longRollout(n)
		if r.Step != want.Step || string(r.Messages[0]) != string(want.Messages[0]) || r.PromptText != want.PromptText {
			t.Fatalf("rollout %d differs: %+v", n, r)
		}
		n++
	}
	if n != 64 {
		t.Fatalf("%d rollouts read back, want 64", n)
	}
	// The export streams every point; NaN and the infinities as the wire's strings.
	body, err := c.Export(ctx, exptclient.ExportRequest{Experiments: []string{run.ID}, Kind: "scalars", Keys: []string{"eval/pass@1"}})
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(body)
	lines := 0
	for sc.Scan() {
		var row struct {
			Step  int64   `json:"step"`
			Value api.Num `json:"value"`
		}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		want := float64(row.Step) / 10
		if row.Step < 3 {
			want = special[row.Step]
		}
		if float64(row.Value) != want && !(math.IsNaN(want) && math.IsNaN(float64(row.Value))) {
			t.Fatalf("step %d: %v, want %v", row.Step, row.Value, want)
		}
		lines++
	}
	body.Close()
	if lines != 3000 {
		t.Fatalf("export: %d lines", lines)
	}
	page, err := c.Experiments(ctx, exptclient.ListOptions{Project: "evals"})
	if err != nil || page.Total != 1 || page.Experiments[0].ID != run.ID {
		t.Fatalf("Experiments(project=evals): %+v %v", page, err)
	}
	if err := c.DeleteExperiment(ctx, run.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Experiment(ctx, run.ID); !exptclient.IsNotFound(err) {
		t.Fatalf("after delete: %v, want not found", err)
	}
	if _, err := exptclient.New(p.URL, "expt_"+strings.Repeat("A", 43)).Me(ctx); !exptclient.IsUnauthorized(err) {
		t.Fatalf("a wrong key: %v, want 401", err)
	}
}

// TestGoClientRunOutlivesTheServer: a run started while the server is
// down never blocks its caller, delivers everything once the server is
// back (each batch once, by its Idempotency-Key), and past its memory
// bound drops the oldest points rather than grow.
func TestGoClientRunOutlivesTheServer(t *testing.T) {
	data := t.TempDir()
	key := createKey(t, data)
	port := freePort(t)
	c := exptclient.New("http://"+port, key)
	ctx := context.Background()
	var errs int
	run, err := c.Start(ctx, exptclient.RunOptions{Name: "offline-start", FlushInterval: 50 * time.Millisecond, OnError: func(error) { errs++ }})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for step := range 20_000 {
		run.Log(int64(step), map[string]float64{"loss": float64(step)})
	}
	for i := range 32 {
		run.LogRollout(longRollout(i))
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("logging with the server down took %v", d)
	}
	time.Sleep(300 * time.Millisecond) // a few failed attempts
	p := startServer(t, nil, "--data", data, "--addr", port)
	flushCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := run.End(flushCtx, "complete"); err != nil {
		t.Fatal(err)
	}
	if errs == 0 {
		t.Error("OnError was never told the server was away")
	}
	r := &client{t: t, base: p.URL, auth: bearer(key)}
	var got map[string][]api.Point
	r.must(200, "GET", "/api/experiments/"+run.ID+"/scalars?mode=train", nil, &got)
	if len(got["loss"]) != 20_000 {
		t.Fatalf("%d points on the server, want 20000", len(got["loss"]))
	}
	var page api.RolloutPage
	r.must(200, "GET", "/api/experiments/"+run.ID+"/rollouts?limit=1000", nil, &page)
	if len(page.Rollouts) != 32 {
		t.Fatalf("%d rollouts on the server, want 32 once each", len(page.Rollouts))
	}

	// Memory stays bounded with nowhere to send: the oldest are dropped.
	down := exptclient.New("http://"+freePort(t), key)
	small, _ := down.Start(ctx, exptclient.RunOptions{MaxScalars: 1000})
	for step := range 50_000 {
		small.Log(int64(step), map[string]float64{"a": 1, "b": 2})
	}
	if d := small.Dropped(); d < 99_000 {
		t.Fatalf("dropped %d of 100000 with room for 1000", d)
	}
	endCtx, cancel2 := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel2()
	if err := small.End(endCtx, ""); err == nil {
		t.Fatal("End with the server away reported everything delivered")
	}
}

// freePort is a loopback address nothing listens on yet.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestGoClientExportWaitsForASlot: with every export slot held by clients
// that stopped reading, the client's Export is answered 503 and asks again
// after Retry-After until the stalled ones are dropped; then it streams the
// whole file.
func TestGoClientExportWaitsForASlot(t *testing.T) {
	data := t.TempDir()
	key := createKey(t, data)
	p := startServer(t, nil, "--data", data, "--stream-timeout", "1s")
	ctx := context.Background()
	c := exptclient.New(p.URL, key)
	created, err := c.CreateExperiment(ctx, api.CreateExperimentRequest{})
	if err != nil {
		t.Fatal(err)
	}
	id := created.ExperimentID
	name := strings.Repeat("metric-with-a-long-name-", 4)
	for b := range 4 { // about 30 MB of JSON Lines: more than the sockets buffer
		sc := make([]api.ScalarIn, 50_000)
		for i := range sc {
			sc[i] = api.ScalarIn{Step: int64(b*50_000 + i), Mode: "train", Name: name, Value: 0.5}
		}
		if err := c.WriteScalars(ctx, id, sc, ""); err != nil {
			t.Fatal(err)
		}
	}
	for range 4 {
		body, err := c.Export(ctx, exptclient.ExportRequest{Experiments: []string{id}, Kind: "scalars"})
		if err != nil {
			t.Fatal(err)
		}
		defer body.Close()
		body.Read(make([]byte, 1)) // started, then never read again
	}
	start := time.Now()
	body, err := c.Export(ctx, exptclient.ExportRequest{Experiments: []string{id}, Kind: "scalars", Format: "csv"})
	if err != nil {
		t.Fatalf("an export while every slot was held: %v", err)
	}
	n := 0
	sc := bufio.NewScanner(body)
	for sc.Scan() {
		n++
	}
	body.Close()
	if err := sc.Err(); err != nil || n != 200_001 {
		t.Fatalf("%d lines (%v), want the header and 200000 points", n, err)
	}
	if waited := time.Since(start); waited < 500*time.Millisecond {
		t.Errorf("answered after %v: the slots were not full", waited)
	}
}
