package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// row is one line of the result table.
type row struct {
	What   string
	Value  float64
	Unit   string
	Detail string
}

// workers runs fn in n goroutines until it returns an error or done, and
// returns the first error.
func workers(ctx context.Context, n int, fn func(ctx context.Context, worker int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx, w); err != nil {
				cancel(err)
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// latencies collects request durations from concurrent workers.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

func (l *latencies) pct(p float64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0
	}
	s := slices.Clone(l.d)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

// sustain runs batch in every client until the duration is over, and turns
// the items they sent into a throughput row.
func sustain(ctx context.Context, cfg config, what, unit string, perRequest int,
	batch func(ctx context.Context, worker, i int) error) (row, error) {
	var lat latencies
	var requests atomic.Int64
	cpu0 := processCPU("postgres", "expt")
	deadline := time.Now().Add(cfg.Duration)
	start := time.Now()
	err := workers(ctx, cfg.Clients, func(ctx context.Context, w int) error {
		for i := 0; time.Now().Before(deadline); i++ {
			t := time.Now()
			if err := batch(ctx, w, i); err != nil {
				return err
			}
			lat.add(time.Since(t))
			requests.Add(1)
		}
		return nil
	})
	elapsed := time.Since(start)
	if err != nil {
		return row{}, err
	}
	n := requests.Load() * int64(perRequest)
	detail := fmt.Sprintf("%s in %.1fs; request p50 %s p99 %s", count(int(n)), elapsed.Seconds(),
		lat.pct(0.5).Round(time.Millisecond), lat.pct(0.99).Round(time.Millisecond))
	// The CPU that a separate database (and, with --url, a separate
	// server) spent per item: what sizing replicas and the database needs.
	cpu1 := processCPU("postgres", "expt")
	for _, name := range []string{"postgres", "expt"} {
		if d := cpu1[name] - cpu0[name]; d > 0 && n > 0 {
			detail += fmt.Sprintf("; %s CPU %.2f µs/item (%.2f cores)", name, d/float64(n)*1e6, d/elapsed.Seconds())
		}
	}
	return row{
		What:  fmt.Sprintf("%s (%d clients × %d/request)", what, cfg.Clients, perRequest),
		Value: float64(n) / elapsed.Seconds(), Unit: unit, Detail: detail,
	}, nil
}

func ingestScalars(ctx context.Context, c *client, cfg config) (row, error) {
	exps := make([]string, cfg.Clients)
	for w := range exps {
		id, err := c.createExperiment(ctx, fmt.Sprintf("bench-scalars-%d", w))
		if err != nil {
			return row{}, err
		}
		exps[w] = id
	}
	bufs := make([][]byte, cfg.Clients)
	return sustain(ctx, cfg, "scalar ingestion", "points/s", cfg.ScalarBatch, func(ctx context.Context, w, i int) error {
		// Ten metrics per run, as a training loop logs loss, reward, kl, ...
		name := fmt.Sprintf("metric_%d", i%10)
		bufs[w] = scalarBatch(bufs[w], name, (i/10)*cfg.ScalarBatch, cfg.ScalarBatch, nowTS())
		return c.do(ctx, "POST", "/api/experiments/"+exps[w]+"/scalars", bufs[w], nil)
	})
}

func ingestRollouts(ctx context.Context, c *client, cfg config) (row, error) {
	exps := make([]string, cfg.Clients)
	for w := range exps {
		id, err := c.createExperiment(ctx, fmt.Sprintf("bench-rollouts-%d", w))
		if err != nil {
			return row{}, err
		}
		exps[w] = id
	}
	bufs := make([][]byte, cfg.Clients)
	r, err := sustain(ctx, cfg, fmt.Sprintf("rollout ingestion, %d B text + 3 rewards", cfg.TextBytes), "rollouts/s", cfg.RolloutBatch,
		func(ctx context.Context, w, i int) error {
			rng := rand.New(rand.NewPCG(uint64(w), uint64(i)))
			bufs[w] = rolloutBatch(bufs[w], rng, i*cfg.RolloutBatch, cfg.RolloutBatch, cfg.TextBytes, false, nowTS())
			return c.do(ctx, "POST", "/api/experiments/"+exps[w]+"/rollouts", bufs[w], nil)
		})
	return r, err
}

// load writes total items in requests of per, spread over the clients.
func load(ctx context.Context, cfg config, total, per int, log io.Writer, send func(ctx context.Context, worker, from, n int) error) error {
	var next atomic.Int64
	var done atomic.Int64
	start := time.Now()
	return workers(ctx, cfg.Clients, func(ctx context.Context, w int) error {
		for {
			from := int(next.Add(int64(per))) - per
			if from >= total {
				return nil
			}
			n := min(per, total-from)
			if err := send(ctx, w, from, n); err != nil {
				return err
			}
			if d := done.Add(int64(n)); d*10/int64(total) != (d-int64(n))*10/int64(total) {
				fmt.Fprintf(log, "  %d/%d (%.0f/s)\n", d, total, float64(d)/time.Since(start).Seconds())
			}
		}
	})
}

// timeQuery runs q cfg.Repeat times and returns the median and the fastest.
func timeQuery(ctx context.Context, cfg config, q func(ctx context.Context) error) (median, fastest time.Duration, err error) {
	var ds []time.Duration
	for i := 0; i < cfg.Repeat; i++ {
		t := time.Now()
		if err := q(ctx); err != nil {
			return 0, 0, err
		}
		ds = append(ds, time.Since(t))
	}
	slices.Sort(ds)
	return ds[len(ds)/2], ds[0], nil
}

func querySeries(ctx context.Context, c *client, cfg config, log io.Writer) (row, error) {
	id, err := c.createExperiment(ctx, "bench-series")
	if err != nil {
		return row{}, err
	}
	const per = 10_000
	bufs := make([][]byte, cfg.Clients)
	err = load(ctx, cfg, cfg.SeriesPoints, per, log, func(ctx context.Context, w, from, n int) error {
		bufs[w] = scalarBatch(bufs[w], "loss", from, n, nowTS())
		return c.do(ctx, "POST", "/api/experiments/"+id+"/scalars", bufs[w], nil)
	})
	if err != nil {
		return row{}, err
	}
	path := fmt.Sprintf("/api/experiments/%s/series?mode=train&name=loss&maxPoints=%d", id, cfg.Buckets)
	med, fast, err := timeQuery(ctx, cfg, func(ctx context.Context) error {
		var s struct {
			Total int64   `json:"total"`
			Step  []int64 `json:"step"`
		}
		if err := c.do(ctx, "GET", path, nil, &s); err != nil {
			return err
		}
		// Check the answer, so a fast wrong one cannot pass for a result.
		if s.Total != int64(cfg.SeriesPoints) || len(s.Step) == 0 || len(s.Step) > cfg.Buckets {
			return fmt.Errorf("series answered total %d with %d buckets, want total %d in 1..%d buckets",
				s.Total, len(s.Step), cfg.SeriesPoints, cfg.Buckets)
		}
		return nil
	})
	if err != nil {
		return row{}, err
	}
	return queryRow(cfg, fmt.Sprintf("series of %s points -> %s buckets", count(cfg.SeriesPoints), count(cfg.Buckets)), med, fast), nil
}

type rolloutsPage struct {
	Rollouts []struct {
		PromptText string `json:"promptText"`
		Messages   []struct {
			Content any `json:"content"`
		} `json:"messages"`
		Rewards []struct {
			Name  string  `json:"name"`
			Value float64 `json:"value"`
		} `json:"rewards"`
	} `json:"rollouts"`
	More bool `json:"more"`
}

func queryRollouts(ctx context.Context, c *client, cfg config, log io.Writer) ([]row, error) {
	id, err := c.createExperiment(ctx, "bench-rollout-queries")
	if err != nil {
		return nil, err
	}
	bufs := make([][]byte, cfg.Clients)
	err = load(ctx, cfg, cfg.QueryRollouts, cfg.RolloutBatch, log, func(ctx context.Context, w, from, n int) error {
		rng := rand.New(rand.NewPCG(7, uint64(from)))
		bufs[w] = rolloutBatch(bufs[w], rng, from, n, cfg.QueryText, true, nowTS())
		return c.do(ctx, "POST", "/api/experiments/"+id+"/rollouts", bufs[w], nil)
	})
	if err != nil {
		return nil, err
	}
	base := "/api/experiments/" + id + "/rollouts?limit=" + fmt.Sprint(cfg.PageSize)
	among := "among " + count(cfg.QueryRollouts)
	var rows []row

	// 1% of rollouts have correct > 0.99: a selective filter.
	filter := base + "&reward=" + url.QueryEscape("correct>0.99")
	med, fast, err := timeQuery(ctx, cfg, func(ctx context.Context) error {
		var p rolloutsPage
		if err := c.do(ctx, "GET", filter, nil, &p); err != nil {
			return err
		}
		return checkPage(p, cfg, cfg.QueryRollouts/100, func(i int) error {
			for _, r := range p.Rollouts[i].Rewards {
				if r.Name == "correct" && r.Value <= 0.99 {
					return fmt.Errorf("reward filter correct>0.99 returned correct=%v", r.Value)
				}
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("reward filter: %w", err)
	}
	rows = append(rows, queryRow(cfg, fmt.Sprintf("%d rollouts with correct>0.99, %s", cfg.PageSize, among), med, fast))

	sorted := base + "&sort=" + url.QueryEscape("reward:correct") + "&order=desc"
	med, fast, err = timeQuery(ctx, cfg, func(ctx context.Context) error {
		var p rolloutsPage
		if err := c.do(ctx, "GET", sorted, nil, &p); err != nil {
			return err
		}
		return checkPage(p, cfg, cfg.QueryRollouts, func(i int) error {
			if i > 0 && reward(p, i, "correct") > reward(p, i-1, "correct") {
				return fmt.Errorf("sort by reward:correct desc is out of order at %d", i)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("reward sort: %w", err)
	}
	rows = append(rows, queryRow(cfg, fmt.Sprintf("top %d rollouts by reward, %s", cfg.PageSize, among), med, fast))

	search := base + "&q=" + rareWord
	med, fast, err = timeQuery(ctx, cfg, func(ctx context.Context) error {
		var p rolloutsPage
		if err := c.do(ctx, "GET", search, nil, &p); err != nil {
			return err
		}
		if len(p.Rollouts) == 0 && cfg.QueryRollouts >= 10*rareEvery {
			return fmt.Errorf("full-text query %q found nothing", rareWord)
		}
		return checkPage(p, cfg, 0, func(i int) error {
			r := p.Rollouts[i]
			text := r.PromptText
			for _, m := range r.Messages {
				if s, ok := m.Content.(string); ok {
					text += " " + s
				}
			}
			if !strings.Contains(text, rareWord) {
				return fmt.Errorf("full-text query %q returned a rollout without it", rareWord)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("full-text query: %w", err)
	}
	rows = append(rows, queryRow(cfg, fmt.Sprintf("full-text query (~1 in %d match), %s", rareEvery, among), med, fast))
	return rows, nil
}

// checkPage checks the page size and each rollout. expectAtLeast is how
// many rollouts should match in all; when that is a full page or more, a
// short page is an error.
func checkPage(p rolloutsPage, cfg config, expectAtLeast int, each func(i int) error) error {
	if len(p.Rollouts) > cfg.PageSize {
		return fmt.Errorf("page of %d rollouts, asked for %d", len(p.Rollouts), cfg.PageSize)
	}
	if expectAtLeast >= 2*cfg.PageSize && len(p.Rollouts) < cfg.PageSize {
		return fmt.Errorf("page of %d rollouts, expected a full page of %d", len(p.Rollouts), cfg.PageSize)
	}
	for i := range p.Rollouts {
		if err := each(i); err != nil {
			return err
		}
	}
	return nil
}

// reward is the value of the named reward of the i-th rollout of p; -1 when absent.
func reward(p rolloutsPage, i int, name string) float64 {
	for _, r := range p.Rollouts[i].Rewards {
		if r.Name == name {
			return r.Value
		}
	}
	return -1
}

func queryRow(cfg config, what string, median, fastest time.Duration) row {
	return row{What: what, Value: float64(median.Microseconds()) / 1000, Unit: "ms",
		Detail: fmt.Sprintf("median of %d runs; fastest %.1f ms", cfg.Repeat, float64(fastest.Microseconds())/1000)}
}

func nowTS() float64 { return float64(time.Now().UnixNano()) / 1e9 }

// count formats n with thousands separators.
func count(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
