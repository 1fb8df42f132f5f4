package postgres_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/postgres"
	"github.com/expt-logger/expt/postgres/pgtest"
	"github.com/expt-logger/expt/storetest"
)

// TestTwoReplicasApplyEachBatchOnce opens two stores on one database, as
// two `expt serve` replicas, and has several clients send every batch to
// both at the same time under one idempotency key (a retry that reached
// the other replica): each batch must apply exactly once, and both
// replicas must read the same data.
func TestTwoReplicasApplyEachBatchOnce(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	a, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_, exp := storetest.NewExperiment(t, a, "u@x", "0b6a1f5e-1111-4222-8333-944455556666", "shared")
	const clients, batches, perBatch = 4, 15, 200
	var applied [2]int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, 4*clients*batches)
	for c := range clients {
		for i := range batches {
			scal := make([]expt.Scalar, perBatch)
			for j := range scal {
				scal[j] = expt.Scalar{Step: int64(i*perBatch + j), Mode: "train", Name: fmt.Sprintf("c%d", c), Value: float64(j)}
			}
			rs := func() []*expt.Rollout {
				out := make([]*expt.Rollout, 10)
				for j := range out {
					out[j] = &expt.Rollout{Step: int64(i), Mode: "train", Prompt: fmt.Sprintf("p%d", j%3),
						Messages: []expt.Message{{Role: "assistant", Content: "x"}}, Rewards: []expt.Reward{{Name: "r", Value: float64(j)}}}
				}
				return out
			}
			for _, s := range []*postgres.DB{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ok1, err := s.WriteScalars(ctx, exp.ID, scal, fmt.Sprintf("s-%d-%d", c, i))
					if err != nil {
						errs <- err
						return
					}
					ok2, err := s.WriteRollouts(ctx, exp.ID, rs(), fmt.Sprintf("r-%d-%d", c, i))
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					if ok1 {
						applied[0]++
					}
					if ok2 {
						applied[1]++
					}
					mu.Unlock()
				}()
			}
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if applied[0] != clients*batches || applied[1] != clients*batches {
		t.Fatalf("applied %d scalar and %d rollout batches, want %d each", applied[0], applied[1], clients*batches)
	}
	read := func(s *postgres.DB) (any, any, any) {
		ms, err := s.Metrics(ctx, exp.ID)
		if err != nil {
			t.Fatal(err)
		}
		steps, err := s.RolloutSteps(ctx, exp.ID)
		if err != nil {
			t.Fatal(err)
		}
		groups, _, err := s.RolloutGroups(ctx, expt.GroupQuery{ExperimentID: exp.ID, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		return ms, steps, groups
	}
	ma, sa, ga := read(a)
	mb, sb, gb := read(b)
	if !reflect.DeepEqual(ma, mb) || !reflect.DeepEqual(sa, sb) || !reflect.DeepEqual(ga, gb) {
		t.Fatalf("replicas disagree:\n%v %v\n%v %v", ma, sa, mb, sb)
	}
	for _, m := range ma.([]expt.Metric) {
		if m.Count != batches*perBatch {
			t.Fatalf("metric %+v, want %d points", m, batches*perBatch)
		}
	}
	for _, s := range sa.([]expt.StepCount) {
		if s.Count != clients*10 {
			t.Fatalf("step %+v, want %d rollouts", s, clients*10)
		}
	}
	for _, g := range ga.([]*expt.RolloutGroup) {
		if len(g.Rewards) != 1 || g.Rewards[0].Count != g.Count {
			t.Fatalf("group %+v: reward count differs from rollout count", g)
		}
	}
}
