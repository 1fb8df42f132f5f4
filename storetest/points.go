package storetest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/expt-logger/expt"
)

// testPoints: Points reads every point exactly as written (NaN and ±Inf
// kept, re-logged steps replaced), in (mode, name, step) order by bytes,
// page after page from its cursor whatever the page size, filtered by mode,
// keys and steps; RewardNames lists reward names in logged order.
func testPoints(t *testing.T, open func(t *testing.T) expt.Store) {
	f := newFixture(t, open)
	rng := rand.New(rand.NewPCG(3, 4))
	type key struct {
		mode, name string
		step       int64
	}
	want := map[key]expt.Scalar{}
	// Names that sort differently by bytes than by a locale, and a mode
	// name below "train" by bytes.
	names := []string{"loss", "Loss", "kl", "reward/mean", "é-acc", "a b"}
	modes := []string{"train", "eval", "Z"}
	for b := range 6 {
		var batch []expt.Scalar
		for range 700 {
			s := expt.Scalar{Mode: modes[rng.IntN(3)], Name: names[rng.IntN(len(names))], Step: int64(rng.IntN(400)), Value: rng.NormFloat64(), TS: 1.7e9 + float64(b)}
			switch rng.IntN(20) {
			case 0:
				s.Value = math.NaN()
			case 1:
				s.Value = math.Inf(1)
			case 2:
				s.Value = math.Inf(-1)
			}
			batch = append(batch, s)
		}
		// One batch keeps a point's last write: the store replaces within it too.
		dedup := map[key]int{}
		var uniq []expt.Scalar
		for _, s := range batch {
			k := key{s.Mode, s.Name, s.Step}
			if i, ok := dedup[k]; ok {
				uniq[i] = s
				continue
			}
			dedup[k] = len(uniq)
			uniq = append(uniq, s)
		}
		_, err := f.s.WriteScalars(f.ctx, f.expID, uniq, fmt.Sprintf("b%d", b))
		must(t, "WriteScalars", err)
		for _, s := range uniq {
			want[key{s.Mode, s.Name, s.Step}] = s
		}
	}
	same := func(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }
	less := func(a, b expt.Scalar) bool {
		if a.Mode != b.Mode {
			return a.Mode < b.Mode
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Step < b.Step
	}
	readAll := func(q expt.PointQuery) []expt.Scalar {
		t.Helper()
		q.ExperimentID = f.expID
		var all []expt.Scalar
		for pages := 0; ; pages++ {
			page, more, err := f.s.Points(f.ctx, q)
			must(t, "Points", err)
			if q.Limit > 0 && len(page) > q.Limit {
				t.Fatalf("a page of %d points, limit %d", len(page), q.Limit)
			}
			all = append(all, page...)
			if !more {
				return all
			}
			if len(page) == 0 || pages > 10000 {
				t.Fatalf("more with an empty page")
			}
			last := page[len(page)-1]
			q.After = &expt.PointCursor{Mode: last.Mode, Name: last.Name, Step: last.Step}
			if q.Limit%2 == 1 {
				q.Buf = page // read the next page into this one's memory, as exports do
			}
		}
	}
	check := func(what string, got []expt.Scalar, keep func(expt.Scalar) bool) {
		t.Helper()
		n := 0
		for _, w := range want {
			if keep(w) {
				n++
			}
		}
		if len(got) != n {
			t.Fatalf("%s: %d points, want %d", what, len(got), n)
		}
		for i, g := range got {
			w, ok := want[key{g.Mode, g.Name, g.Step}]
			if !ok || !keep(w) || !same(g.Value, w.Value) || g.TS != w.TS {
				t.Fatalf("%s: point %d = %+v, want %+v (%v)", what, i, g, w, ok)
			}
			if i > 0 && !less(got[i-1], g) {
				t.Fatalf("%s: point %d %+v not after %+v", what, i, g, got[i-1])
			}
		}
	}
	all := func(expt.Scalar) bool { return true }
	every := readAll(expt.PointQuery{})
	check("one page", every, all)
	// MetricKeys lists the metrics in the same order.
	var order []expt.MetricKey
	for _, p := range every {
		if k := (expt.MetricKey{Mode: p.Mode, Name: p.Name}); len(order) == 0 || order[len(order)-1] != k {
			order = append(order, k)
		}
	}
	keysGot, err := f.s.MetricKeys(f.ctx, f.expID)
	must(t, "MetricKeys", err)
	if fmt.Sprint(keysGot) != fmt.Sprint(order) {
		t.Fatalf("MetricKeys = %v, Points' order %v", keysGot, order)
	}
	for _, limit := range []int{1, 7, 250, 999} {
		check(fmt.Sprintf("pages of %d", limit), readAll(expt.PointQuery{Limit: limit}), all)
	}
	check("mode eval", readAll(expt.PointQuery{Mode: "eval", Limit: 33}), func(s expt.Scalar) bool { return s.Mode == "eval" })
	keys := []expt.MetricKey{{Mode: "train", Name: "Loss"}, {Mode: "Z", Name: "é-acc"}, {Mode: "train", Name: "missing"}}
	check("keys", readAll(expt.PointQuery{Keys: keys, Limit: 50}), func(s expt.Scalar) bool {
		return (s.Mode == "train" && s.Name == "Loss") || (s.Mode == "Z" && s.Name == "é-acc")
	})
	check("one key", readAll(expt.PointQuery{Keys: keys[1:2], Limit: 9}), func(s expt.Scalar) bool { return s.Mode == "Z" && s.Name == "é-acc" })
	check("one key and another mode", readAll(expt.PointQuery{Keys: keys[1:2], Mode: "train"}), func(expt.Scalar) bool { return false })
	from, to := int64(100), int64(199)
	check("steps 100-199", readAll(expt.PointQuery{FromStep: &from, ToStep: &to, Limit: 40}), func(s expt.Scalar) bool {
		return s.Step >= from && s.Step <= to
	})
	page, more, err := f.s.Points(f.ctx, expt.PointQuery{ExperimentID: f.expID, Mode: "nope"})
	must(t, "Points(no such mode)", err)
	if len(page) != 0 || more {
		t.Fatalf("an unknown mode has %d points", len(page))
	}
	_, _, err = f.s.Points(f.ctx, expt.PointQuery{ExperimentID: f.expID, Limit: expt.MaxPointPage + 1})
	wantCode(t, "Points(limit too large)", err, expt.EINVALID)
	_, _, err = f.s.Points(f.ctx, expt.PointQuery{ExperimentID: expt.NewUUID()})
	wantCode(t, "Points(missing experiment)", err, expt.ENOTFOUND)

	r1 := rollout(1, "train", "p", "a", expt.Reward{Name: "format", Value: 1}, expt.Reward{Name: "correct", Value: 0})
	r2 := rollout(1, "train", "p", "b", expt.Reward{Name: "zeta", Value: 1}, expt.Reward{Name: "correct", Value: 1})
	_, err = f.s.WriteRollouts(f.ctx, f.expID, []*expt.Rollout{r1, r2}, "")
	must(t, "WriteRollouts", err)
	got, err := f.s.RewardNames(f.ctx, f.expID)
	must(t, "RewardNames", err)
	if fmt.Sprint(got) != "[format correct zeta]" {
		t.Fatalf("RewardNames = %q, want logged order", got)
	}
}

// testRolloutKeyset: AfterID pages a list in id order, up or down, with
// the other filters, and gives every rollout once; with a sort other than
// id it is refused.
func testRolloutKeyset(t *testing.T, open func(t *testing.T) expt.Store) {
	f := newFixture(t, open)
	var batch []*expt.Rollout
	for i := range 230 {
		batch = append(batch, rollout(int64(i%5), []string{"train", "eval"}[i%2], fmt.Sprintf("p%d", i%7), fmt.Sprintf("answer %d", i),
			expt.Reward{Name: "correct", Value: float64(i % 3)}))
	}
	_, err := f.s.WriteRollouts(f.ctx, f.expID, batch, "")
	must(t, "WriteRollouts", err)
	for _, c := range []struct {
		q    expt.RolloutQuery
		keep func(*expt.Rollout) bool
	}{
		{expt.RolloutQuery{}, func(*expt.Rollout) bool { return true }},
		{expt.RolloutQuery{Desc: true}, func(*expt.Rollout) bool { return true }},
		{expt.RolloutQuery{Mode: "eval", Rewards: []expt.RewardFilter{{Name: "correct", Op: ">=", Value: 1}}}, func(r *expt.Rollout) bool {
			return r.Mode == "eval" && r.Rewards[0].Value >= 1
		}},
		{expt.RolloutQuery{Step: ptr(int64(3)), Search: "answer"}, func(r *expt.Rollout) bool { return r.Step == 3 }},
	} {
		q := c.q
		q.ExperimentID, q.Limit = f.expID, 17
		var got []int64
		for {
			page, more, err := f.s.Rollouts(f.ctx, q)
			must(t, "Rollouts(after)", err)
			for _, r := range page {
				if !c.keep(r) {
					t.Fatalf("rollout %d does not match the filter", r.ID)
				}
				got = append(got, r.ID)
			}
			if !more {
				break
			}
			q.AfterID = page[len(page)-1].ID
		}
		var want []int64
		for _, r := range batch {
			if c.keep(r) {
				want = append(want, r.ID)
			}
		}
		if c.q.Desc {
			for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
				want[i], want[j] = want[j], want[i]
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("paged by key (%+v): %d rollouts %v, want %d %v", c.q, len(got), got, len(want), want)
		}
	}
	_, _, err = f.s.Rollouts(f.ctx, expt.RolloutQuery{ExperimentID: f.expID, AfterID: 5, Sort: expt.SortReward + "correct"})
	wantCode(t, "Rollouts(after with a reward sort)", err, expt.EINVALID)
}
