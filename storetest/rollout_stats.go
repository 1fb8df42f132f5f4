package storetest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/expt-logger/expt"
)

// refStats is the brute-force RewardStats: NaNs counted apart, population std.
func refStats(name string, vals []float64) expt.RewardStats {
	s := expt.RewardStats{Name: name}
	var clean []float64
	for _, v := range vals {
		if math.IsNaN(v) {
			s.NaNs++
		} else {
			clean = append(clean, v)
		}
	}
	s.Count = int64(len(clean))
	if s.Count == 0 {
		return s
	}
	s.Min, s.Max = clean[0], clean[0]
	for _, v := range clean {
		s.Mean += v
		s.Min, s.Max = math.Min(s.Min, v), math.Max(s.Max, v)
	}
	s.Mean /= float64(s.Count)
	for _, v := range clean {
		s.Std += (v - s.Mean) * (v - s.Mean)
	}
	s.Std = math.Sqrt(s.Std / float64(s.Count))
	return s
}

func checkStats(t *testing.T, what string, got []expt.RewardStats, vals map[string][]float64) {
	t.Helper()
	if len(got) != len(vals) {
		t.Fatalf("%s: %d reward stats, want %d (%v)", what, len(got), len(vals), got)
	}
	for _, g := range got {
		w := refStats(g.Name, vals[g.Name])
		if g.Count != w.Count || g.NaNs != w.NaNs || !approx(g.Mean, w.Mean) || !approx(g.Std, w.Std) || !same(g.Min, w.Min) || !same(g.Max, w.Max) {
			t.Fatalf("%s: stats %+v, want %+v", what, g, w)
		}
	}
}

type groupKey struct {
	step   int64
	mode   string
	prompt string
}

func testRolloutStats(t *testing.T, open func(t *testing.T) expt.Store) {
	f := newFixture(t, open)
	rng := rand.New(rand.NewPCG(3, 4))
	var all []*expt.Rollout
	for step := int64(0); step < 5; step++ {
		for i := 0; i < 30; i++ {
			mode := []string{"train", "eval"}[rng.IntN(2)]
			r := rollout(step, mode, fmt.Sprintf("q%d", rng.IntN(3)), fmt.Sprintf("a%d", i),
				expt.Reward{Name: "acc", Value: float64(rng.IntN(2))},
				expt.Reward{Name: "fmt", Value: rng.NormFloat64()})
			if rng.IntN(8) == 0 {
				r.Rewards[1].Value = math.NaN()
			}
			if rng.IntN(5) == 0 {
				r.Rewards = r.Rewards[:1] // not every rollout has every reward
			}
			all = append(all, r)
		}
	}
	// Several batches, so incremental per-step sums must add up.
	for start := 0; start < len(all); start += 40 {
		_, err := f.s.WriteRollouts(f.ctx, f.expID, all[start:min(start+40, len(all))], "")
		must(t, "WriteRollouts", err)
	}

	t.Run("Groups", func(t *testing.T) {
		groups := map[groupKey][]*expt.Rollout{}
		for _, r := range all {
			if r.Step >= 1 && r.Step <= 3 {
				k := groupKey{r.Step, r.Mode, r.Prompt}
				groups[k] = append(groups[k], r)
			}
		}
		var keys []groupKey
		for k := range groups {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			a, b := keys[i], keys[j]
			if a.step != b.step {
				return a.step < b.step
			}
			if a.prompt != b.prompt {
				return a.prompt < b.prompt
			}
			return a.mode < b.mode
		})
		var got []*expt.RolloutGroup
		for off := 0; ; off += 4 {
			page, more, err := f.s.RolloutGroups(f.ctx, expt.GroupQuery{ExperimentID: f.expID, FromStep: ptr(int64(1)), ToStep: ptr(int64(3)), Offset: off, Limit: 4})
			must(t, "RolloutGroups", err)
			got = append(got, page...)
			if !more {
				break
			}
		}
		if len(got) != len(keys) {
			t.Fatalf("%d groups, want %d", len(got), len(keys))
		}
		for i, k := range keys {
			g := got[i]
			if g.Step != k.step || g.Mode != k.mode || g.Prompt != k.prompt || g.Count != int64(len(groups[k])) {
				t.Fatalf("group %d = %+v, want %+v with %d rollouts", i, g, k, len(groups[k]))
			}
			vals := map[string][]float64{}
			for _, r := range groups[k] {
				for _, w := range r.Rewards {
					vals[w.Name] = append(vals[w.Name], w.Value)
				}
			}
			checkStats(t, fmt.Sprintf("group %+v", k), g.Rewards, vals)
		}
		page, _, err := f.s.RolloutGroups(f.ctx, expt.GroupQuery{ExperimentID: f.expID, Mode: "eval", Step: ptr(int64(4))})
		must(t, "RolloutGroups mode+step", err)
		for _, g := range page {
			if g.Mode != "eval" || g.Step != 4 {
				t.Fatalf("filter ignored: %+v", g)
			}
		}
		if len(page) == 0 {
			t.Fatal("no eval groups at step 4")
		}
	})

	t.Run("GroupsWholeExperiment", func(t *testing.T) { testGroupsWholeExperiment(t, open) })

	t.Run("StepRewards", func(t *testing.T) {
		for _, mode := range []string{"", "train"} {
			got, err := f.s.StepRewards(f.ctx, f.expID, mode)
			must(t, "StepRewards", err)
			type sk struct {
				step int64
				mode string
			}
			counts := map[sk]int64{}
			vals := map[sk]map[string][]float64{}
			for _, r := range all {
				if mode != "" && r.Mode != mode {
					continue
				}
				k := sk{r.Step, r.Mode}
				counts[k]++
				if vals[k] == nil {
					vals[k] = map[string][]float64{}
				}
				for _, w := range r.Rewards {
					vals[k][w.Name] = append(vals[k][w.Name], w.Value)
				}
			}
			if len(got) != len(counts) {
				t.Fatalf("mode %q: %d steps, want %d", mode, len(got), len(counts))
			}
			for i, s := range got {
				if i > 0 && s.Step < got[i-1].Step {
					t.Fatalf("StepRewards not by step: %d after %d", s.Step, got[i-1].Step)
				}
				k := sk{s.Step, s.Mode}
				if s.Count != counts[k] {
					t.Fatalf("step %+v count %d, want %d", k, s.Count, counts[k])
				}
				checkStats(t, fmt.Sprintf("step %+v", k), s.Rewards, vals[k])
			}
		}
	})

	t.Run("RolloutSteps", func(t *testing.T) {
		got, err := f.s.RolloutSteps(f.ctx, f.expID)
		must(t, "RolloutSteps", err)
		want := map[expt.StepCount]bool{}
		counts := map[[2]any]int64{}
		for _, r := range all {
			counts[[2]any{r.Mode, r.Step}]++
		}
		for k, n := range counts {
			want[expt.StepCount{Mode: k[0].(string), Step: k[1].(int64), Count: n}] = true
		}
		if len(got) != len(want) {
			t.Fatalf("RolloutSteps = %v", got)
		}
		for i, s := range got {
			if !want[s] {
				t.Fatalf("unexpected %+v", s)
			}
			if i > 0 && (s.Mode < got[i-1].Mode || s.Mode == got[i-1].Mode && s.Step <= got[i-1].Step) {
				t.Fatalf("RolloutSteps not by mode then step: %v", got)
			}
		}
	})
}

// testOpposedInfinities: +Inf and -Inf rewards at one step, in one batch
// and across batches, are stored (a batch once failed on SQLite, whose NaN
// sum became NULL), the step's mean and std are NaN as a brute-force sum
// gives, min and max are the infinities, and the rollouts read back as
// logged.
func testOpposedInfinities(t *testing.T, open func(t *testing.T) expt.Store) {
	f := newFixture(t, open)
	inf := func(step int64, v float64) *expt.Rollout {
		return rollout(step, "train", "p", "a", expt.Reward{Name: "r", Value: v}, expt.Reward{Name: "ok", Value: 1})
	}
	_, err := f.s.WriteRollouts(f.ctx, f.expID, []*expt.Rollout{inf(1, math.Inf(1)), inf(1, math.Inf(-1)), inf(2, math.Inf(1))}, "")
	must(t, "WriteRollouts(+Inf and -Inf in one batch)", err)
	_, err = f.s.WriteRollouts(f.ctx, f.expID, []*expt.Rollout{inf(2, math.Inf(-1)), inf(1, 3)}, "")
	must(t, "WriteRollouts(-Inf after +Inf)", err)
	steps, err := f.s.StepRewards(f.ctx, f.expID, "train")
	must(t, "StepRewards", err)
	if len(steps) != 2 {
		t.Fatalf("%d steps, want 2", len(steps))
	}
	for _, s := range steps {
		for _, r := range s.Rewards {
			switch r.Name {
			case "r":
				if !math.IsNaN(r.Mean) || !math.IsNaN(r.Std) || r.Min != math.Inf(-1) || r.Max != math.Inf(1) {
					t.Fatalf("step %d: %+v, want a NaN mean and std between -Inf and +Inf", s.Step, r)
				}
			case "ok":
				if r.Mean != 1 || r.Std != 0 {
					t.Fatalf("step %d: %+v", s.Step, r)
				}
			}
		}
	}
	list, _, err := f.s.Rollouts(f.ctx, expt.RolloutQuery{ExperimentID: f.expID})
	must(t, "Rollouts", err)
	want := []float64{math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1), 3}
	for i, r := range list {
		if r.Rewards[0].Value != want[i] {
			t.Fatalf("rollout %d: %v, want %v", i, r.Rewards[0].Value, want[i])
		}
	}
}
