package storetest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/expt-logger/expt"
)

type refPoint struct {
	step  int64
	value float64
	ts    float64
}

// refBucket is the brute-force summary of consecutive points, following
// the expt.Bucket contract: ties go to the earlier step, NaN never wins,
// a bucket of only NaNs has Min = Max = NaN at its last step.
func refBucket(pts []refPoint) expt.Bucket {
	b := expt.Bucket{Count: int64(len(pts)), Min: math.NaN(), Max: math.NaN()}
	last := pts[len(pts)-1]
	b.LastStep, b.Last, b.LastTS = last.step, last.value, last.ts
	b.MinStep, b.MaxStep = last.step, last.step
	found := false
	for _, p := range pts {
		if math.IsNaN(p.value) {
			continue
		}
		if !found || p.value < b.Min {
			b.Min, b.MinStep = p.value, p.step
		}
		if !found || p.value > b.Max {
			b.Max, b.MaxStep = p.value, p.step
		}
		found = true
	}
	return b
}

func sameBucket(a, b expt.Bucket) bool {
	return a.Count == b.Count && a.MinStep == b.MinStep && same(a.Min, b.Min) && a.MaxStep == b.MaxStep && same(a.Max, b.Max) &&
		a.LastStep == b.LastStep && same(a.Last, b.Last) && a.LastTS == b.LastTS
}

// checkSeries verifies a Series answer against the raw points in range
// without assuming how the store chooses bucket boundaries: buckets must
// partition the points in step order, and each must equal the brute-force
// summary of the points it covers.
func checkSeries(t *testing.T, what string, s *expt.Series, pts []refPoint, maxPoints int) {
	t.Helper()
	if s.Total != int64(len(pts)) {
		t.Fatalf("%s: Total = %d, want %d", what, s.Total, len(pts))
	}
	if maxPoints == 0 || len(pts) <= maxPoints {
		if s.Downsampled || len(s.Buckets) != len(pts) {
			t.Fatalf("%s: %d buckets (downsampled %v), want every one of %d points", what, len(s.Buckets), s.Downsampled, len(pts))
		}
	} else if !s.Downsampled || len(s.Buckets) > maxPoints || len(s.Buckets) == 0 {
		t.Fatalf("%s: %d buckets (downsampled %v) for %d points, want 1..%d", what, len(s.Buckets), s.Downsampled, len(pts), maxPoints)
	}
	i := 0
	for bi, b := range s.Buckets {
		if b.Count <= 0 || i+int(b.Count) > len(pts) {
			t.Fatalf("%s: bucket %d count %d overruns %d points (at %d)", what, bi, b.Count, len(pts), i)
		}
		want := refBucket(pts[i : i+int(b.Count)])
		if !sameBucket(b, want) {
			t.Fatalf("%s: bucket %d = %+v, want %+v", what, bi, b, want)
		}
		i += int(b.Count)
	}
	if i != len(pts) {
		t.Fatalf("%s: buckets cover %d of %d points", what, i, len(pts))
	}
}

func testSeries(t *testing.T, open func(t *testing.T) expt.Store) {
	t.Run("DownsampleMatchesBruteForce", func(t *testing.T) {
		f := newFixture(t, open)
		rng := rand.New(rand.NewPCG(1, 2))
		// Sparse, irregular steps over several rollup-sized blocks, with
		// NaN, ±Inf, repeated values (ties) and a run of only NaNs.
		var steps []int64
		for s := int64(3); s < 9000; s += 1 + rng.Int64N(7) {
			steps = append(steps, s)
		}
		for s := int64(20000); s < 24000; s++ {
			steps = append(steps, s) // a dense block
		}
		values := map[int64]float64{}
		var batch []expt.Scalar
		for _, s := range steps {
			v := math.Round(rng.NormFloat64()*4) / 4 // coarse: many ties
			switch r := rng.IntN(100); {
			case r < 5:
				v = math.NaN()
			case r == 5:
				v = math.Inf(1)
			case r == 6:
				v = math.Inf(-1)
			}
			if s >= 4100 && s < 4300 {
				v = math.NaN()
			}
			values[s] = v
			batch = append(batch, expt.Scalar{Step: s, Mode: "train", Name: "r", Value: v, TS: float64(s) / 10})
		}
		// Write in shuffled batches and overwrite some points later, so
		// rollups must notice updates to already-summarised steps.
		rng.Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })
		for start := 0; start < len(batch); start += 700 {
			_, err := f.s.WriteScalars(f.ctx, f.expID, batch[start:min(start+700, len(batch))], "")
			must(t, "WriteScalars", err)
		}
		query := func(maxPoints int, from, to *int64) {
			t.Helper()
			s, err := f.s.Series(f.ctx, expt.SeriesQuery{ExperimentID: f.expID, Mode: "train", Name: "r", MaxPoints: maxPoints, FromStep: from, ToStep: to})
			must(t, "Series", err)
			var pts []refPoint
			for _, st := range steps {
				if (from == nil || st >= *from) && (to == nil || st <= *to) {
					pts = append(pts, refPoint{st, values[st], float64(st) / 10})
				}
			}
			sort.Slice(pts, func(i, j int) bool { return pts[i].step < pts[j].step })
			checkSeries(t, fmt.Sprintf("max=%d from=%v to=%v", maxPoints, deref(from), deref(to)), s, pts, maxPoints)
		}
		for round := 0; round < 2; round++ {
			for _, mp := range []int{0, 1, 2, 7, 10, 100, 1000, 5000, 100000} {
				query(mp, nil, nil)
			}
			for i := 0; i < 25; i++ {
				a, b := rng.Int64N(26000), rng.Int64N(26000)
				if a > b {
					a, b = b, a
				}
				query([]int{1, 3, 10, 50, 200, 1000}[rng.IntN(6)], &a, &b)
			}
			query(10, ptr(int64(1024)), ptr(int64(2047))) // exactly one aligned block
			query(10, ptr(int64(30000)), nil)             // past the end
			query(10, ptr(int64(500)), ptr(int64(400)))   // empty range
			// Overwrite a slice of points, including inside summarised blocks.
			var upd []expt.Scalar
			for _, s := range steps[100:400] {
				v := rng.NormFloat64() * 100
				values[s] = v
				upd = append(upd, expt.Scalar{Step: s, Mode: "train", Name: "r", Value: v, TS: float64(s) / 10})
			}
			_, err := f.s.WriteScalars(f.ctx, f.expID, upd, "")
			must(t, "WriteScalars overwrite", err)
		}
	})

	t.Run("ChartWidthsMatchBruteForce", func(t *testing.T) {
		// A dense series read as charts do (a few hundred to a few thousand
		// buckets, narrower than 1024 steps), over the whole series and over
		// windows with unaligned edges, after overwrites inside the range.
		f := newFixture(t, open)
		rng := rand.New(rand.NewPCG(3, 4))
		const n = 40000
		values := make([]float64, n)
		var batch []expt.Scalar
		for s := range values {
			v := math.Round(rng.NormFloat64()*8) / 8
			switch r := rng.IntN(200); {
			case r < 3 || s >= 7000 && s < 7100:
				v = math.NaN()
			case r == 3:
				v = math.Inf(1)
			case r == 4:
				v = math.Inf(-1)
			}
			values[s] = v
			batch = append(batch, expt.Scalar{Step: int64(s), Mode: "train", Name: "c", Value: v, TS: float64(s)/4 + 0.5})
		}
		for start := 0; start < n; start += 5000 {
			_, err := f.s.WriteScalars(f.ctx, f.expID, batch[start:start+5000], "")
			must(t, "WriteScalars", err)
		}
		query := func(maxPoints int, from, to int64) {
			t.Helper()
			s, err := f.s.Series(f.ctx, expt.SeriesQuery{ExperimentID: f.expID, Mode: "train", Name: "c", MaxPoints: maxPoints, FromStep: &from, ToStep: &to})
			must(t, "Series", err)
			var pts []refPoint
			for st := max(from, 0); st <= min(to, n-1); st++ {
				pts = append(pts, refPoint{st, values[st], float64(st)/4 + 0.5})
			}
			checkSeries(t, fmt.Sprintf("max=%d from=%d to=%d", maxPoints, from, to), s, pts, maxPoints)
		}
		for round := 0; round < 2; round++ {
			for _, mp := range []int{200, 300, 640, 1000, 1500, 2000, 5000} {
				query(mp, 0, n)
				a := rng.Int64N(n / 2)
				query(mp, a, a+rng.Int64N(n/2))
			}
			query(700, 1023, 1024+63) // a short window across a 1024-step boundary
			query(300, 31, 32*300)
			query(2000, 63, 64*2000+5)
			var upd []expt.Scalar
			for i := 0; i < 500; i++ {
				st := rng.Int64N(n)
				values[st] = rng.NormFloat64() * 1000
				upd = append(upd, expt.Scalar{Step: st, Mode: "train", Name: "c", Value: values[st], TS: float64(st)/4 + 0.5})
			}
			_, err := f.s.WriteScalars(f.ctx, f.expID, upd, "")
			must(t, "WriteScalars overwrite", err)
		}
	})

	t.Run("AllNaNAndSinglePoint", func(t *testing.T) {
		f := newFixture(t, open)
		var batch []expt.Scalar
		for s := int64(0); s < 3000; s++ {
			batch = append(batch, expt.Scalar{Step: s, Mode: "train", Name: "nan", Value: math.NaN()})
		}
		batch = append(batch, expt.Scalar{Step: 5, Mode: "train", Name: "one", Value: 42, TS: 1.5})
		_, err := f.s.WriteScalars(f.ctx, f.expID, batch, "")
		must(t, "WriteScalars", err)
		s, err := f.s.Series(f.ctx, expt.SeriesQuery{ExperimentID: f.expID, Mode: "train", Name: "nan", MaxPoints: 3})
		must(t, "Series nan", err)
		for _, b := range s.Buckets {
			if !math.IsNaN(b.Min) || !math.IsNaN(b.Max) || !math.IsNaN(b.Last) || b.MinStep != b.LastStep {
				t.Fatalf("all-NaN bucket = %+v", b)
			}
		}
		s, err = f.s.Series(f.ctx, expt.SeriesQuery{ExperimentID: f.expID, Mode: "train", Name: "one", MaxPoints: 1})
		must(t, "Series one", err)
		want := expt.Bucket{Count: 1, MinStep: 5, Min: 42, MaxStep: 5, Max: 42, LastStep: 5, Last: 42, LastTS: 1.5}
		if len(s.Buckets) != 1 || s.Buckets[0] != want || s.Downsampled {
			t.Fatalf("single point series = %+v", s)
		}
	})
}

func deref(p *int64) any {
	if p == nil {
		return "nil"
	}
	return *p
}
