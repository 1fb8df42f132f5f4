package storekit

import (
	"math"

	"github.com/expt-logger/expt"
)

// The reward summaries of both stores are computed here so that a group or
// step reads the same whichever store holds it: exactly (two passes) when
// the values are at hand, and from running sums otherwise.

// RewardStatsOf summarises vals exactly, in two passes so that a large
// common offset costs no precision; NaNs are counted apart and left out of
// the rest.
func RewardStatsOf(name string, vals []float64) expt.RewardStats {
	s := expt.RewardStats{Name: name}
	var sum float64
	for _, v := range vals {
		if math.IsNaN(v) {
			s.NaNs++
			continue
		}
		if s.Count == 0 || v < s.Min {
			s.Min = v
		}
		if s.Count == 0 || v > s.Max {
			s.Max = v
		}
		s.Count++
		sum += v
	}
	if s.Count == 0 {
		return s
	}
	s.Mean = sum / float64(s.Count)
	var ss float64
	for _, v := range vals {
		if !math.IsNaN(v) {
			ss += (v - s.Mean) * (v - s.Mean)
		}
	}
	s.Std = math.Sqrt(ss / float64(s.Count))
	return s
}

// RewardSums is one batch's part of a step's reward summary, as running
// sums that a store adds to its stored row. Min and Max mean nothing while
// Count is 0.
type RewardSums struct {
	Count, NaNs int64
	Sum, SumSq  float64
	Min, Max    float64
}

// Add counts v; a NaN only in NaNs.
func (s *RewardSums) Add(v float64) {
	if math.IsNaN(v) {
		s.NaNs++
		return
	}
	if s.Count == 0 || v < s.Min {
		s.Min = v
	}
	if s.Count == 0 || v > s.Max {
		s.Max = v
	}
	s.Count++
	s.Sum += v
	s.SumSq += v * v
}

// RewardMoments is one batch's part of a group's reward summary. Mean and
// M2 are kept by Welford's update so that the store can merge them into
// its stored row (Chan et al.) without the cancellation that sums of
// squares suffer. Min and Max mean nothing while Count is 0.
type RewardMoments struct {
	Count, NaNs   int64
	Sum, Mean, M2 float64
	Min, Max      float64
}

// Add counts v; a NaN only in NaNs.
func (g *RewardMoments) Add(v float64) {
	if math.IsNaN(v) {
		g.NaNs++
		return
	}
	if g.Count == 0 || v < g.Min {
		g.Min = v
	}
	if g.Count == 0 || v > g.Max {
		g.Max = v
	}
	g.Count++
	g.Sum += v
	d := v - g.Mean
	g.Mean += d / float64(g.Count)
	g.M2 += d * (v - g.Mean)
}

var nan = math.NaN()
