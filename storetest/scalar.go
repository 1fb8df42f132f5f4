package storetest

import (
	"math"
	"testing"

	"github.com/expt-logger/expt"
)

func testScalars(t *testing.T, open func(t *testing.T) expt.Store) {
	t.Run("LastWriteWins", func(t *testing.T) {
		f := newFixture(t, open)
		applied, err := f.s.WriteScalars(f.ctx, f.expID, []expt.Scalar{
			{Step: 1, Mode: "train", Name: "loss", Value: 3, TS: 100},
			{Step: 2, Mode: "train", Name: "loss", Value: 2, TS: 101},
			{Step: 2, Mode: "train", Name: "loss", Value: 2.5, TS: 102}, // same batch: later wins
			{Step: 1, Mode: "eval", Name: "loss", Value: 9},
		}, "")
		must(t, "WriteScalars", err)
		if !applied {
			t.Fatal("applied = false without a key")
		}
		_, err = f.s.WriteScalars(f.ctx, f.expID, []expt.Scalar{{Step: 1, Mode: "train", Name: "loss", Value: 1.5, TS: 200}}, "")
		must(t, "WriteScalars overwrite", err)
		pts, err := f.s.Scalars(f.ctx, f.expID, "train")
		must(t, "Scalars", err)
		want := []expt.Point{{Step: 1, Value: 1.5, TS: 200}, {Step: 2, Value: 2.5, TS: 102}}
		if len(pts) != 1 || !equalPoints(pts["loss"], want) {
			t.Fatalf("Scalars(train) = %v, want loss=%v", pts, want)
		}
		ms, err := f.s.Metrics(f.ctx, f.expID)
		must(t, "Metrics", err)
		wantM := []expt.Metric{{Mode: "eval", Name: "loss", Count: 1, LastStep: 1}, {Mode: "train", Name: "loss", Count: 2, LastStep: 2}}
		if len(ms) != 2 || ms[0] != wantM[0] || ms[1] != wantM[1] {
			t.Fatalf("Metrics = %+v, want %+v", ms, wantM)
		}
		e, _ := f.s.Experiment(f.ctx, f.expID)
		if e.LatestStep == nil || *e.LatestStep != 2 {
			t.Fatalf("LatestStep = %v, want 2", e.LatestStep)
		}
		_, err = f.s.WriteScalars(f.ctx, f.expID, []expt.Scalar{{Step: 0, Mode: "train", Name: "loss", Value: 0}}, "")
		must(t, "WriteScalars older step", err)
		e, _ = f.s.Experiment(f.ctx, f.expID)
		if *e.LatestStep != 2 {
			t.Fatalf("LatestStep moved back to %d", *e.LatestStep)
		}
	})

	t.Run("NonFiniteRoundTrip", func(t *testing.T) {
		f := newFixture(t, open)
		vals := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, -0.5, math.MaxFloat64, math.SmallestNonzeroFloat64}
		var batch []expt.Scalar
		for i, v := range vals {
			batch = append(batch, expt.Scalar{Step: int64(i), Mode: "train", Name: "x", Value: v})
		}
		_, err := f.s.WriteScalars(f.ctx, f.expID, batch, "")
		must(t, "WriteScalars", err)
		pts, err := f.s.Scalars(f.ctx, f.expID, "train")
		must(t, "Scalars", err)
		s, err := f.s.Series(f.ctx, expt.SeriesQuery{ExperimentID: f.expID, Mode: "train", Name: "x"})
		must(t, "Series", err)
		if len(pts["x"]) != len(vals) || len(s.Buckets) != len(vals) || s.Downsampled || s.Total != int64(len(vals)) {
			t.Fatalf("got %d points, %d buckets (downsampled %v, total %d), want %d", len(pts["x"]), len(s.Buckets), s.Downsampled, s.Total, len(vals))
		}
		for i, v := range vals {
			p, b := pts["x"][i], s.Buckets[i]
			if p.Step != int64(i) || !same(p.Value, v) || math.Signbit(p.Value) != math.Signbit(v) && !math.IsNaN(v) {
				t.Errorf("Scalars point %d = %+v, want %v", i, p, v)
			}
			if b.Count != 1 || b.LastStep != int64(i) || !same(b.Last, v) || !same(b.Min, v) || !same(b.Max, v) || b.MinStep != int64(i) || b.MaxStep != int64(i) {
				t.Errorf("Series bucket %d = %+v, want the point %v", i, b, v)
			}
		}
	})

	t.Run("Idempotency", func(t *testing.T) {
		f := newFixture(t, open)
		batch := []expt.Scalar{{Step: 5, Mode: "train", Name: "a", Value: 1}}
		applied, err := f.s.WriteScalars(f.ctx, f.expID, batch, "key-1")
		must(t, "first", err)
		if !applied {
			t.Fatal("first write with a key not applied")
		}
		batch[0].Value = 2
		applied, err = f.s.WriteScalars(f.ctx, f.expID, batch, "key-1")
		must(t, "replay", err)
		if applied {
			t.Fatal("replayed key applied again")
		}
		pts, _ := f.s.Scalars(f.ctx, f.expID, "train")
		if pts["a"][0].Value != 1 {
			t.Fatalf("replay changed the value to %v", pts["a"][0].Value)
		}
		// Keys are per experiment: the same key elsewhere is new.
		other := f.newExperiment(f.user.ID, "run-2")
		applied, err = f.s.WriteScalars(f.ctx, other.ID, batch, "key-1")
		must(t, "same key other experiment", err)
		if !applied {
			t.Fatal("key of another experiment blocked this one")
		}
		// A failed batch must not burn its key.
		_, err = f.s.WriteScalars(f.ctx, f.expID, []expt.Scalar{{Step: -1, Mode: "train", Name: "a"}}, "key-2")
		wantCode(t, "negative step", err, expt.EINVALID)
		applied, err = f.s.WriteScalars(f.ctx, f.expID, batch, "key-2")
		if err != nil || !applied {
			t.Fatalf("key of a failed batch: applied=%v err=%v", applied, err)
		}
	})

	t.Run("UnknownExperiment", func(t *testing.T) {
		f := newFixture(t, open)
		missing := expt.NewUUID()
		_, err := f.s.WriteScalars(f.ctx, missing, []expt.Scalar{{Step: 1, Mode: "train", Name: "a"}}, "")
		wantCode(t, "WriteScalars", err, expt.ENOTFOUND)
		_, err = f.s.Metrics(f.ctx, missing)
		wantCode(t, "Metrics", err, expt.ENOTFOUND)
		_, err = f.s.Scalars(f.ctx, missing, "train")
		wantCode(t, "Scalars", err, expt.ENOTFOUND)
		_, err = f.s.Series(f.ctx, expt.SeriesQuery{ExperimentID: missing, Mode: "train", Name: "a"})
		wantCode(t, "Series", err, expt.ENOTFOUND)
		s, err := f.s.Series(f.ctx, expt.SeriesQuery{ExperimentID: f.expID, Mode: "train", Name: "none"})
		must(t, "Series(unknown metric)", err)
		if s.Total != 0 || len(s.Buckets) != 0 {
			t.Fatalf("unknown metric = %+v, want empty", s)
		}
	})
}

func equalPoints(a, b []expt.Point) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Step != b[i].Step || !same(a[i].Value, b[i].Value) || a[i].TS != b[i].TS {
			return false
		}
	}
	return true
}
