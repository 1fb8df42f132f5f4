package storetest

import (
	"math"
	"strings"
	"testing"

	"github.com/expt-logger/expt"
)

func testRewardDistribution(t *testing.T, open func(t *testing.T) expt.Store) {
	f := newFixture(t, open)
	// Steps 0..9, 4 samples each: correctness 0/1 (half right from step 5
	// on, none before), a length reward spread over [0, 1), one NaN and one
	// +Inf (neither finite), and an eval mode that must stay apart.
	var batch []*expt.Rollout
	for step := int64(0); step < 10; step++ {
		for k := 0; k < 4; k++ {
			c := 0.0
			if step >= 5 && k%2 == 1 {
				c = 1
			}
			length := float64(k) / 4
			if step == 9 && k == 3 {
				length = math.NaN()
			}
			if step == 9 && k == 2 {
				length = math.Inf(1)
			}
			batch = append(batch, rollout(step, "train", "p", "a", expt.Reward{Name: "correctness", Value: c}, expt.Reward{Name: "length", Value: length}))
		}
	}
	batch = append(batch, rollout(3, "eval", "p", "a", expt.Reward{Name: "correctness", Value: 1}))
	_, err := f.s.WriteRollouts(f.ctx, f.expID, batch, "")
	must(t, "WriteRollouts", err)

	d, err := f.s.RewardDistribution(f.ctx, expt.DistributionQuery{ExperimentID: f.expID, Mode: "train", Name: "correctness", Bins: 10, MaxSteps: 5})
	must(t, "RewardDistribution", err)
	if d.Lo != 0 || d.Hi != 1 || d.BucketSteps != 2 || len(d.Steps) != 5 {
		t.Fatalf("distribution = lo %v hi %v width %d, %d buckets", d.Lo, d.Hi, d.BucketSteps, len(d.Steps))
	}
	for i, st := range d.Steps {
		if st.Step != int64(2*i) || st.Count != 8 || st.NaNs != 0 || st.Counts[0]+st.Counts[9] != 8 {
			t.Fatalf("bucket %d = %+v", i, st)
		}
	}
	// Steps 0-1: all wrong; 6-7: half right; 4-5: a quarter (step 5 only).
	if st := d.Steps[0]; st.Counts[0] != 8 || st.P50 != 0 || st.P90 != 0 || st.Mean != 0 {
		t.Fatalf("steps 0-1 = %+v", st)
	}
	if st := d.Steps[3]; st.Counts[9] != 4 || st.P10 != 0 || st.P90 != 1 || st.Mean != 0.5 || st.P50 != 0 {
		t.Fatalf("steps 6-7 = %+v", st)
	}
	if st := d.Steps[2]; st.Counts[9] != 2 || st.Mean != 0.25 {
		t.Fatalf("steps 4-5 = %+v", st)
	}

	// The length reward: NaN and +Inf are non-finite, left out of the bins and the range.
	d, err = f.s.RewardDistribution(f.ctx, expt.DistributionQuery{ExperimentID: f.expID, Mode: "train", Name: "length", Bins: 4, MaxSteps: 100})
	must(t, "RewardDistribution(length)", err)
	if d.Lo != 0 || d.Hi != 0.75 || d.BucketSteps != 1 || len(d.Steps) != 10 {
		t.Fatalf("length distribution = lo %v hi %v width %d, %d buckets", d.Lo, d.Hi, d.BucketSteps, len(d.Steps))
	}
	last := d.Steps[9]
	if last.Count != 2 || last.NaNs != 2 || last.Counts[0] != 1 || last.Counts[1] != 1 {
		t.Fatalf("step 9 of length = %+v", last)
	}
	if first := d.Steps[0]; first.Counts[0] != 1 || first.Counts[1] != 1 || first.Counts[2] != 1 || first.Counts[3] != 1 || first.P50 != 0.25 {
		t.Fatalf("step 0 of length = %+v", first)
	}

	// Another mode, a missing reward, bad sizes.
	d, err = f.s.RewardDistribution(f.ctx, expt.DistributionQuery{ExperimentID: f.expID, Mode: "eval", Name: "correctness", Bins: 10, MaxSteps: 5})
	must(t, "RewardDistribution(eval)", err)
	if len(d.Steps) != 1 || d.Steps[0].Step != 3 || d.Steps[0].Count != 1 {
		t.Fatalf("eval = %+v", d.Steps)
	}
	d, err = f.s.RewardDistribution(f.ctx, expt.DistributionQuery{ExperimentID: f.expID, Mode: "train", Name: "nope", Bins: 10, MaxSteps: 5})
	if err != nil || len(d.Steps) != 0 {
		t.Fatalf("missing reward = %+v, %v", d, err)
	}
	_, err = f.s.RewardDistribution(f.ctx, expt.DistributionQuery{ExperimentID: f.expID, Mode: "train", Name: "correctness", Bins: 0, MaxSteps: 5})
	wantCode(t, "RewardDistribution(bins 0)", err, expt.EINVALID)
	_, err = f.s.RewardDistribution(f.ctx, expt.DistributionQuery{ExperimentID: expt.NewUUID(), Mode: "train", Name: "correctness", Bins: 10, MaxSteps: 5})
	wantCode(t, "RewardDistribution(missing experiment)", err, expt.ENOTFOUND)
}

// testDistributionSketches: a step written in several batches, a step of
// more distinct values than a sketch keeps exactly, and response lengths.
func testDistributionSketches(t *testing.T, open func(t *testing.T) expt.Store) {
	f := newFixture(t, open)
	// Step 0 in three batches of 400 distinct values each: 0..1199.
	for b := 0; b < 3; b++ {
		var batch []*expt.Rollout
		for k := 0; k < 400; k++ {
			v := float64(b*400 + k)
			batch = append(batch, rollout(0, "train", "p", strings.Repeat("x", k%7), expt.Reward{Name: "r", Value: v}))
		}
		_, err := f.s.WriteRollouts(f.ctx, f.expID, batch, "")
		must(t, "WriteRollouts", err)
	}
	// Step 1: two values, one logged twice, in two batches, and a NaN.
	for _, vs := range [][]float64{{5, 5}, {7, math.NaN()}} {
		var batch []*expt.Rollout
		for _, v := range vs {
			batch = append(batch, rollout(1, "train", "p", "é😀", expt.Reward{Name: "r", Value: v}))
		}
		_, err := f.s.WriteRollouts(f.ctx, f.expID, batch, "")
		must(t, "WriteRollouts", err)
	}
	d, err := f.s.RewardDistribution(f.ctx, expt.DistributionQuery{ExperimentID: f.expID, Mode: "train", Name: "r", Bins: 12, MaxSteps: 10})
	must(t, "RewardDistribution", err)
	if d.Lo != 0 || d.Hi != 1199 || len(d.Steps) != 2 {
		t.Fatalf("distribution = lo %v hi %v, %d steps", d.Lo, d.Hi, len(d.Steps))
	}
	s0 := d.Steps[0]
	var sum int64
	for i, n := range s0.Counts {
		sum += n
		// 100 values per bin of width 99.9; merged centroids may move a
		// few across an edge, never more than one centroid's weight (5).
		if n < 95 || n > 105 {
			t.Errorf("step 0 bin %d holds %d, want about 100", i, n)
		}
	}
	if s0.Count != 1200 || sum != 1200 || s0.NaNs != 0 || math.Abs(s0.Mean-599.5) > 1e-9 {
		t.Fatalf("step 0 = count %d (bins %d) mean %v", s0.Count, sum, s0.Mean)
	}
	for _, q := range []struct{ got, want float64 }{{s0.P10, 119.5}, {s0.P50, 599.5}, {s0.P90, 1079.5}} {
		if math.Abs(q.got-q.want) > 6 {
			t.Errorf("step 0 quantile = %v, want %v within a centroid", q.got, q.want)
		}
	}
	if s1 := d.Steps[1]; s1.Count != 3 || s1.NaNs != 1 || s1.P50 != 5 || s1.P90 != 7 || s1.Counts[0] != 3 {
		t.Fatalf("step 1 = %+v", s1)
	}

	// Response lengths: the assistant's text in UTF-16 units ("é😀" is 3).
	l, err := f.s.LengthDistribution(f.ctx, expt.DistributionQuery{ExperimentID: f.expID, Mode: "train", Bins: 7, MaxSteps: 10})
	must(t, "LengthDistribution", err)
	if l.Lo != 0 || l.Hi != 6 || len(l.Steps) != 2 {
		t.Fatalf("lengths = lo %v hi %v, %d steps", l.Lo, l.Hi, len(l.Steps))
	}
	if s0 := l.Steps[0]; s0.Count != 1200 || s0.Counts[0] < 171 || s0.Counts[6] < 171 {
		t.Fatalf("step 0 lengths = %+v", s0)
	}
	if s1 := l.Steps[1]; s1.Count != 4 || s1.P10 != 3 || s1.P90 != 3 || s1.Mean != 3 {
		t.Fatalf("step 1 lengths = %+v", s1)
	}
	if l, err = f.s.LengthDistribution(f.ctx, expt.DistributionQuery{ExperimentID: f.expID, Mode: "eval", Bins: 7, MaxSteps: 10}); err != nil || len(l.Steps) != 0 {
		t.Fatalf("eval lengths = %+v, %v", l, err)
	}
	_, err = f.s.LengthDistribution(f.ctx, expt.DistributionQuery{ExperimentID: expt.NewUUID(), Mode: "train", Bins: 7, MaxSteps: 10})
	wantCode(t, "LengthDistribution(missing experiment)", err, expt.ENOTFOUND)
}
