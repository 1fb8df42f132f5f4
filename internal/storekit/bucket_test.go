package storekit

import (
	"math"
	"math/rand"
	"testing"

	"github.com/expt-logger/expt"
)

type point struct {
	step  int64
	v, ts float64
}

// bruteBucket summarises points by the rules on Bucket, directly.
func bruteBucket(ps []point) expt.Bucket {
	b := expt.Bucket{Count: int64(len(ps))}
	last := ps[len(ps)-1]
	b.Last, b.LastStep, b.LastTS = last.v, last.step, last.ts
	b.Min, b.Max = math.NaN(), math.NaN()
	b.MinStep, b.MaxStep = last.step, last.step
	for _, p := range ps {
		if math.IsNaN(p.v) {
			continue
		}
		if math.IsNaN(b.Min) || p.v < b.Min {
			b.Min, b.MinStep = p.v, p.step
		}
		if math.IsNaN(b.Max) || p.v > b.Max {
			b.Max, b.MaxStep = p.v, p.step
		}
	}
	return b
}

func sameBucket(a, b expt.Bucket) bool {
	eq := func(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) }
	return a.Count == b.Count && a.MinStep == b.MinStep && a.MaxStep == b.MaxStep && a.LastStep == b.LastStep &&
		eq(a.Min, b.Min) && eq(a.Max, b.Max) && eq(a.Last, b.Last) && eq(a.LastTS, b.LastTS)
}

// randomPoints returns n points in step order from a few values, so that
// ties are common, with NaNs and infinities among them.
func randomPoints(r *rand.Rand, n int) []point {
	vals := []float64{math.NaN(), -1, 0, 0, 1, 2, math.Inf(1), math.Inf(-1)}
	ps := make([]point, n)
	step := int64(r.Intn(5))
	for i := range ps {
		step += 1 + int64(r.Intn(3))
		v := vals[r.Intn(len(vals))]
		if r.Intn(4) == 0 {
			v = math.NaN()
		}
		ps[i] = point{step, v, float64(1000 + i)}
	}
	return ps
}

func TestBucketAggMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for trial := 0; trial < 2000; trial++ {
		ps := randomPoints(r, 1+r.Intn(20))
		want := bruteBucket(ps)

		var a BucketAgg
		for _, p := range ps {
			a.Add(p.step, p.v, p.ts)
		}
		if got := a.Summary(); !sameBucket(got, want) {
			t.Fatalf("trial %d: Add gave %+v, want %+v (points %v)", trial, got, want, ps)
		}
		if a.First != ps[0].step {
			t.Fatalf("trial %d: First = %d, want %d", trial, a.First, ps[0].step)
		}

		// Folding consecutive runs and merging them, empty runs included,
		// gives the same bucket as adding every point.
		var m BucketAgg
		for i := 0; i <= len(ps); {
			j := i + r.Intn(4)
			if j > len(ps) {
				j = len(ps)
			}
			var part BucketAgg
			for _, p := range ps[i:j] {
				part.Add(p.step, p.v, p.ts)
			}
			m.Merge(part)
			if j == len(ps) {
				break
			}
			i = j
		}
		if got := m.Summary(); !sameBucket(got, want) || m.First != a.First || m.HasNum != a.HasNum {
			t.Fatalf("trial %d: Merge gave %+v, want %+v (points %v)", trial, got, want, ps)
		}
	}
}

func TestBucketAggOnlyNaN(t *testing.T) {
	var a BucketAgg
	a.Add(3, math.NaN(), 1)
	a.Add(7, math.NaN(), 2)
	b := a.Summary()
	if a.HasNum || !math.IsNaN(b.Min) || !math.IsNaN(b.Max) || b.MinStep != 7 || b.MaxStep != 7 || b.Count != 2 {
		t.Fatalf("only NaNs: %+v", b)
	}
}

func TestBucketWidth(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for trial := 0; trial < 5000; trial++ {
		lo := int64(r.Intn(3000))
		hi := lo + int64(r.Intn(5000))
		maxPoints := 1 + r.Intn(300)
		unit := []int64{1, 64, 1024}[r.Intn(3)]
		w := BucketWidth(lo, hi, maxPoints, unit)
		if w <= 0 || w%unit != 0 {
			t.Fatalf("BucketWidth(%d, %d, %d, %d) = %d: not a positive multiple of the unit", lo, hi, maxPoints, unit, w)
		}
		if n := hi/w - lo/w + 1; n > int64(maxPoints) {
			t.Fatalf("BucketWidth(%d, %d, %d, %d) = %d: %d buckets", lo, hi, maxPoints, unit, w, n)
		}
		// The smallest width by brute force; BucketWidth gives it unless it
		// had to double (more than 64 units past its first guess).
		best := unit
		for hi/best-lo/best+1 > int64(maxPoints) {
			best += unit
		}
		m := int64(maxPoints)
		first := ((hi-lo+m)/m + unit - 1) / unit * unit
		if best <= first+64*unit && w != best {
			t.Fatalf("BucketWidth(%d, %d, %d, %d) = %d, want %d", lo, hi, maxPoints, unit, w, best)
		}
	}
}
