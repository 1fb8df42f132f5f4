package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/expt-logger/expt"
)

// testConcurrency writes from several goroutines while others read, as
// the HTTP server does: nothing may fail with a lock error, and every
// point and rollout must land exactly once.
func testConcurrency(t *testing.T, open func(t *testing.T) expt.Store) {
	f := newFixture(t, open)
	const writers, batches, perBatch = 4, 10, 100
	var wg sync.WaitGroup
	errs := make(chan error, 3*writers)
	for w := range writers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for b := range batches {
				batch := make([]expt.Scalar, perBatch)
				for i := range batch {
					batch[i] = expt.Scalar{Step: int64(b*perBatch + i), Mode: "train", Name: fmt.Sprintf("m%d", w), Value: float64(i)}
				}
				if _, err := f.s.WriteScalars(f.ctx, f.expID, batch, fmt.Sprintf("s-%d-%d", w, b)); err != nil {
					errs <- fmt.Errorf("write scalars: %w", err)
					return
				}
				rs := []*expt.Rollout{rollout(int64(b), "train", fmt.Sprintf("p%d", w), "a", expt.Reward{Name: "r", Value: 1})}
				if _, err := f.s.WriteRollouts(f.ctx, f.expID, rs, fmt.Sprintf("r-%d-%d", w, b)); err != nil {
					errs <- fmt.Errorf("write rollouts: %w", err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range batches {
				if _, err := f.s.Series(f.ctx, expt.SeriesQuery{ExperimentID: f.expID, Mode: "train", Name: fmt.Sprintf("m%d", w), MaxPoints: 10}); err != nil {
					errs <- fmt.Errorf("series: %w", err)
					return
				}
				if _, _, err := f.s.Rollouts(f.ctx, expt.RolloutQuery{ExperimentID: f.expID, Limit: 5}); err != nil {
					errs <- fmt.Errorf("rollouts: %w", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	ms, err := f.s.Metrics(f.ctx, f.expID)
	must(t, "Metrics", err)
	if len(ms) != writers {
		t.Fatalf("%d metrics, want %d", len(ms), writers)
	}
	for _, m := range ms {
		if m.Count != batches*perBatch || m.LastStep != batches*perBatch-1 {
			t.Fatalf("metric %+v, want %d points", m, batches*perBatch)
		}
	}
	steps, err := f.s.RolloutSteps(f.ctx, f.expID)
	must(t, "RolloutSteps", err)
	for _, s := range steps {
		if s.Count != writers {
			t.Fatalf("step %+v, want %d rollouts", s, writers)
		}
	}
	if len(steps) != batches {
		t.Fatalf("%d steps, want %d", len(steps), batches)
	}
}

// testSameKeyConcurrently retries one batch under one Idempotency-Key from
// several goroutines at once, as an SDK whose request timed out does
// against a load balancer: exactly one call applies, the rest report a
// replay, and the data is there once.
func testSameKeyConcurrently(t *testing.T, open func(t *testing.T) expt.Store) {
	f := newFixture(t, open)
	const callers = 8
	var wg sync.WaitGroup
	type result struct {
		scalars, rollouts bool
		err               error
	}
	results := make([]result, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &results[i]
			batch := []expt.Scalar{{Step: 1, Mode: "train", Name: "loss", Value: float64(i)}}
			if r.scalars, r.err = f.s.WriteScalars(f.ctx, f.expID, batch, "same-key"); r.err != nil {
				return
			}
			rs := []*expt.Rollout{rollout(1, "train", "p", "a", expt.Reward{Name: "r", Value: 1})}
			r.rollouts, r.err = f.s.WriteRollouts(f.ctx, f.expID, rs, "same-rollout-key")
		}()
	}
	wg.Wait()
	scalarWins, rolloutWins, winner := 0, 0, -1
	for i, r := range results {
		must(t, fmt.Sprintf("caller %d", i), r.err)
		if r.scalars {
			scalarWins++
			winner = i
		}
		if r.rollouts {
			rolloutWins++
		}
	}
	if scalarWins != 1 || rolloutWins != 1 {
		t.Fatalf("%d scalar and %d rollout batches applied under one key, want 1 each", scalarWins, rolloutWins)
	}
	pts, err := f.s.Scalars(f.ctx, f.expID, "train")
	must(t, "Scalars", err)
	if len(pts["loss"]) != 1 || pts["loss"][0].Value != float64(winner) {
		t.Fatalf("points = %v, want the winner's value %d", pts, winner)
	}
	page, _, err := f.s.Rollouts(f.ctx, expt.RolloutQuery{ExperimentID: f.expID})
	must(t, "Rollouts", err)
	steps, err := f.s.RolloutSteps(f.ctx, f.expID)
	must(t, "RolloutSteps", err)
	if len(page) != 1 || len(steps) != 1 || steps[0].Count != 1 {
		t.Fatalf("rollouts %d, steps %v: want one rollout", len(page), steps)
	}
}
