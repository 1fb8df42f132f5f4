package storekit

import (
	"math"
	"math/rand"
	"testing"

	"github.com/expt-logger/expt"
)

func near(a, b, tol float64) bool {
	return a == b || math.Abs(a-b) <= tol*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

// shiftedStd is the population standard deviation computed on vals minus
// offset, where the spread is of order one and rounding does not matter.
func shiftedStd(vals []float64, offset float64) float64 {
	var sum float64
	for _, v := range vals {
		sum += v - offset
	}
	mean := sum / float64(len(vals))
	var ss float64
	for _, v := range vals {
		d := v - offset - mean
		ss += d * d
	}
	return math.Sqrt(ss / float64(len(vals)))
}

func TestRewardStatsOf(t *testing.T) {
	s := RewardStatsOf("r", []float64{math.NaN(), 2, 4, math.NaN(), 4, 4, 5, 5, 7, 9})
	want := expt.RewardStats{Name: "r", Count: 8, NaNs: 2, Mean: 5, Std: 2, Min: 2, Max: 9}
	if s != want {
		t.Fatalf("got %+v, want %+v", s, want)
	}
	if s := RewardStatsOf("r", []float64{math.NaN()}); s != (expt.RewardStats{Name: "r", NaNs: 1}) {
		t.Fatalf("only NaN: %+v", s)
	}
	if s := RewardStatsOf("r", nil); s != (expt.RewardStats{Name: "r"}) {
		t.Fatalf("none: %+v", s)
	}
}

func TestRewardStatsOfLargeOffset(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	vals := make([]float64, 1000)
	for i := range vals {
		vals[i] = 1e9 + r.NormFloat64()
	}
	s := RewardStatsOf("r", vals)
	if want := shiftedStd(vals, 1e9); !near(s.Std, want, 1e-6) {
		t.Fatalf("std %v, want %v", s.Std, want)
	}
}

func TestRewardSums(t *testing.T) {
	var s RewardSums
	for _, v := range []float64{math.NaN(), 3, -1, math.NaN(), 2} {
		s.Add(v)
	}
	want := RewardSums{Count: 3, NaNs: 2, Sum: 4, SumSq: 14, Min: -1, Max: 3}
	if s != want {
		t.Fatalf("got %+v, want %+v", s, want)
	}
	var n RewardSums
	n.Add(math.NaN())
	if n != (RewardSums{NaNs: 1}) {
		t.Fatalf("only NaN: %+v", n)
	}
}

// chanMerge merges b into a as the stores' group_rewards upserts do in SQL
// (Chan et al.): the formula the stored rows rely on.
func chanMerge(a, b RewardMoments) RewardMoments {
	switch {
	case b.Count == 0:
		a.NaNs += b.NaNs
		return a
	case a.Count == 0:
		b.NaNs += a.NaNs
		return b
	}
	n := float64(a.Count + b.Count)
	d := b.Mean - a.Mean
	m := RewardMoments{
		Count: a.Count + b.Count, NaNs: a.NaNs + b.NaNs, Sum: a.Sum + b.Sum,
		Mean: a.Mean + d*float64(b.Count)/n,
		M2:   a.M2 + b.M2 + d*d*float64(a.Count)*float64(b.Count)/n,
		Min:  math.Min(a.Min, b.Min), Max: math.Max(a.Max, b.Max),
	}
	return m
}

func TestRewardMomentsMatchTwoPass(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	for _, offset := range []float64{0, 1e9} {
		for trial := 0; trial < 200; trial++ {
			vals := make([]float64, 1+r.Intn(300))
			for i := range vals {
				vals[i] = offset + r.NormFloat64()*(1+float64(r.Intn(5)))
				if r.Intn(10) == 0 {
					vals[i] = math.NaN()
				}
			}
			want := RewardStatsOf("r", vals)

			// One accumulator over everything, and accumulators over
			// random batches merged as the stores merge stored rows.
			var all, merged RewardMoments
			for _, v := range vals {
				all.Add(v)
			}
			for i := 0; i < len(vals); {
				j := min(len(vals), i+1+r.Intn(40))
				var part RewardMoments
				for _, v := range vals[i:j] {
					part.Add(v)
				}
				merged = chanMerge(merged, part)
				i = j
			}
			for _, g := range []RewardMoments{all, merged} {
				if g.Count != want.Count || g.NaNs != want.NaNs || g.Count > 0 && (g.Min != want.Min || g.Max != want.Max) {
					t.Fatalf("offset %g trial %d: %+v, want %+v", offset, trial, g, want)
				}
				if g.Count == 0 {
					continue
				}
				std := math.Sqrt(g.M2 / float64(g.Count))
				if !near(g.Mean, want.Mean, 1e-12) || !near(std, want.Std, 1e-6) {
					t.Fatalf("offset %g trial %d: mean %v std %v, want %v %v", offset, trial, g.Mean, std, want.Mean, want.Std)
				}
				if offset != 0 {
					if exact := shiftedStd(nonNaN(vals), offset); !near(std, exact, 1e-6) {
						t.Fatalf("offset %g trial %d: std %v, want %v", offset, trial, std, exact)
					}
				}
			}
		}
	}
}

func nonNaN(vals []float64) []float64 {
	var out []float64
	for _, v := range vals {
		if !math.IsNaN(v) {
			out = append(out, v)
		}
	}
	return out
}
