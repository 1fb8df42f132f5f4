package storekit

import (
	"fmt"
	"math"

	"github.com/expt-logger/expt"
)

// BucketAgg folds points, given in step order, into a Bucket. It is the one
// definition of a Bucket's rules (ties, NaN) that every store downsamples
// and keeps rollups with, so that the stores cannot drift apart. The
// embedded Bucket is the running summary: its Min and Max mean nothing
// until HasNum, which tells whether any value was not NaN. First is the
// step of the first point. Stores read and write the fields directly when
// they load or save a summary.
type BucketAgg struct {
	expt.Bucket
	First  int64
	HasNum bool
}

// Add folds one point, which follows every point already added.
func (a *BucketAgg) Add(step int64, v, ts float64) {
	if a.Count == 0 {
		a.First = step
	}
	a.Count++
	if !math.IsNaN(v) {
		// Strict comparisons: on a tie the earlier step keeps the title.
		if !a.HasNum || v < a.Min {
			a.Min, a.MinStep = v, step
		}
		if !a.HasNum || v > a.Max {
			a.Max, a.MaxStep = v, step
		}
		a.HasNum = true
	}
	a.Last, a.LastStep, a.LastTS = v, step, ts
}

// Merge folds o, whose points all follow a's, into a.
func (a *BucketAgg) Merge(o BucketAgg) {
	if o.Count == 0 {
		return
	}
	if a.Count == 0 {
		*a = o
		return
	}
	a.Count += o.Count
	if o.HasNum {
		if !a.HasNum || o.Min < a.Min {
			a.Min, a.MinStep = o.Min, o.MinStep
		}
		if !a.HasNum || o.Max > a.Max {
			a.Max, a.MaxStep = o.Max, o.MaxStep
		}
		a.HasNum = true
	}
	a.Last, a.LastStep, a.LastTS = o.Last, o.LastStep, o.LastTS
}

// Summary returns the bucket; one of only NaNs has Min = Max = NaN at its last step.
func (a *BucketAgg) Summary() expt.Bucket {
	b := a.Bucket
	if !a.HasNum {
		b.Min, b.Max = math.NaN(), math.NaN()
		b.MinStep, b.MaxStep = b.LastStep, b.LastStep
	}
	return b
}

// BucketWidth returns the smallest bucket width, a multiple of unit, for
// which the aligned buckets (step / width) over [lo, hi] number at most
// maxPoints. Both stores align buckets this way, so a series downsamples to
// the same buckets whichever store holds it.
func BucketWidth(lo, hi int64, maxPoints int, unit int64) int64 {
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

// RawScanLimit is the most raw points a Series read folds itself; past it
// the store folds its rollups instead (fewer buckets than asked for, still
// fast). SQLite bounds the step range by it when the buckets asked for are
// under a quarter of a sub-bucket; PostgreSQL the point count when they are
// under one rollup bucket.
const RawScanLimit = 128 << 10

// ScanRollup reads a row of (bucket, dirty, count, first_step, min_step,
// min, max_step, max, last_step, last, last_ts, extra...) of either store's
// rollups table into a; NULL min, max and last are NaN.
func ScanRollup(rows Rows, bucket *int64, dirty any, a *BucketAgg, extra ...any) error {
	var minV, maxV, last *float64
	dest := append([]any{bucket, dirty, &a.Count, &a.First, &a.MinStep, &minV, &a.MaxStep, &maxV, &a.LastStep, &last, &a.LastTS}, extra...)
	if err := rows.Scan(dest...); err != nil {
		return fmt.Errorf("scan rollup: %w", err)
	}
	a.HasNum = minV != nil
	a.Min, a.Max, a.Last = Value(minV), Value(maxV), Value(last)
	return nil
}
