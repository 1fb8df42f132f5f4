package postgres

// The bucket arithmetic is the sqlite package's (bucket.go), copied rather
// than shared so that each store stays one self-contained package; the
// conformance suite checks that both agree with a brute-force reference.

import (
	"math"

	"github.com/expt-logger/expt"
)

// agg folds points, given in step order, into an expt.Bucket. hasNum tells
// whether any value was not NaN: until then Min and Max are meaningless.
type agg struct {
	b      expt.Bucket
	first  int64
	hasNum bool
}

func (a *agg) add(step int64, v, ts float64) {
	if a.b.Count == 0 {
		a.first = step
	}
	a.b.Count++
	if !math.IsNaN(v) {
		// Strict comparisons: on a tie the earlier step keeps the title.
		if !a.hasNum || v < a.b.Min {
			a.b.Min, a.b.MinStep = v, step
		}
		if !a.hasNum || v > a.b.Max {
			a.b.Max, a.b.MaxStep = v, step
		}
		a.hasNum = true
	}
	a.b.Last, a.b.LastStep, a.b.LastTS = v, step, ts
}

// merge folds o, whose points all follow a's, into a.
func (a *agg) merge(o agg) {
	if o.b.Count == 0 {
		return
	}
	if a.b.Count == 0 {
		*a = o
		return
	}
	a.b.Count += o.b.Count
	if o.hasNum {
		if !a.hasNum || o.b.Min < a.b.Min {
			a.b.Min, a.b.MinStep = o.b.Min, o.b.MinStep
		}
		if !a.hasNum || o.b.Max > a.b.Max {
			a.b.Max, a.b.MaxStep = o.b.Max, o.b.MaxStep
		}
		a.hasNum = true
	}
	a.b.Last, a.b.LastStep, a.b.LastTS = o.b.Last, o.b.LastStep, o.b.LastTS
}

// bucket returns the summary; a bucket of only NaNs has Min = Max = NaN at its last step.
func (a *agg) bucket() expt.Bucket {
	b := a.b
	if !a.hasNum {
		b.Min, b.Max = math.NaN(), math.NaN()
		b.MinStep, b.MaxStep = b.LastStep, b.LastStep
	}
	return b
}

// width returns the smallest bucket width, a multiple of unit, for which
// the aligned buckets (step / width) over [lo, hi] number at most maxPoints.
func width(lo, hi int64, maxPoints int, unit int64) int64 {
	m := int64(maxPoints)
	w := (hi - lo + m) / m // ceil((hi-lo+1)/m)
	w = (w + unit - 1) / unit * unit
	for i := 0; hi/w-lo/w+1 > m; i++ {
		if i < 64 {
			w += unit
		} else {
			w *= 2 // only for tiny maxPoints over huge ranges
		}
	}
	return w
}
