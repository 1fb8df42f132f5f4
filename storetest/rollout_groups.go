package storetest

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/expt-logger/expt"
)

// testGroupsWholeExperiment pages every group of an experiment (no step
// filter) against brute force: rewards far from zero (1e9 + a small
// spread, where sums of squares lose every digit of the variance), batches
// that split groups, and one prompt text logged in two raw forms, which is
// still one group.
func testGroupsWholeExperiment(t *testing.T, open func(t *testing.T) expt.Store) {
	f := newFixture(t, open)
	rng := rand.New(rand.NewPCG(5, 6))
	var all []*expt.Rollout
	for step := int64(0); step < 4; step++ {
		for i := 0; i < 40; i++ {
			mode := []string{"train", "eval"}[rng.IntN(2)]
			prompt := fmt.Sprintf("p%d", rng.IntN(4))
			r := rollout(step, mode, prompt, fmt.Sprintf("a%d", i),
				expt.Reward{Name: "big", Value: 1e9 + rng.Float64()},
				expt.Reward{Name: "neg", Value: -1e6 + 1e-3*rng.NormFloat64()},
				expt.Reward{Name: "small", Value: rng.NormFloat64()})
			if rng.IntN(6) == 0 {
				r.Rewards[2].Value = math.NaN()
			}
			if rng.IntN(3) == 0 {
				r.PromptRaw = json.RawMessage(`[{"role":"user","content":` + quote(prompt) + `}]`)
			}
			all = append(all, r)
		}
	}
	for start := 0; start < len(all); {
		n := 1 + rng.IntN(25)
		_, err := f.s.WriteRollouts(f.ctx, f.expID, all[start:min(start+n, len(all))], "")
		must(t, "WriteRollouts", err)
		start += n
	}
	want := map[groupKey]map[string][]float64{}
	counts := map[groupKey]int64{}
	for _, r := range all {
		k := groupKey{r.Step, r.Mode, r.Prompt}
		if want[k] == nil {
			want[k] = map[string][]float64{}
		}
		counts[k]++
		for _, w := range r.Rewards {
			want[k][w.Name] = append(want[k][w.Name], w.Value)
		}
	}
	var got []*expt.RolloutGroup
	for off := 0; ; off += 7 {
		page, more, err := f.s.RolloutGroups(f.ctx, expt.GroupQuery{ExperimentID: f.expID, Offset: off, Limit: 7})
		must(t, "RolloutGroups", err)
		got = append(got, page...)
		if !more {
			break
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d groups, want %d", len(got), len(want))
	}
	for i, g := range got {
		if i > 0 {
			p := got[i-1]
			if p.Step > g.Step || p.Step == g.Step && (p.Prompt > g.Prompt || p.Prompt == g.Prompt && p.Mode >= g.Mode) {
				t.Fatalf("groups not by step, prompt, mode: %+v after %+v", g, p)
			}
		}
		k := groupKey{g.Step, g.Mode, g.Prompt}
		if g.Count != counts[k] {
			t.Fatalf("group %+v: count %d, want %d", k, g.Count, counts[k])
		}
		if len(g.Rewards) != len(want[k]) {
			t.Fatalf("group %+v: %d reward stats, want %d", k, len(g.Rewards), len(want[k]))
		}
		for _, s := range g.Rewards {
			w := refStats(s.Name, want[k][s.Name])
			// The spread is ~1e-9 of the values: a sum of squares would be
			// off by orders of magnitude; a careful merge is off by ~1e-7.
			stdOK := math.Abs(s.Std-w.Std) <= 1e-6*w.Std+1e-300
			if s.Count != w.Count || s.NaNs != w.NaNs || !approx(s.Mean, w.Mean) || !stdOK || !same(s.Min, w.Min) || !same(s.Max, w.Max) {
				t.Fatalf("group %+v: stats %+v, want %+v", k, s, w)
			}
		}
	}
	// A mode filter on the whole experiment keeps the order and the groups.
	page, _, err := f.s.RolloutGroups(f.ctx, expt.GroupQuery{ExperimentID: f.expID, Mode: "eval", Limit: 1000})
	must(t, "RolloutGroups mode", err)
	n := 0
	for k := range want {
		if k.mode == "eval" {
			n++
		}
	}
	if len(page) != n {
		t.Fatalf("mode eval: %d groups, want %d", len(page), n)
	}
}
