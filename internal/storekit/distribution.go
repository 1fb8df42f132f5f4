package storekit

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/expt-logger/expt"
)

// stepSketch is one step's stored summary of a series.
type stepSketch struct {
	step int64
	nans int64
	sk   *Sketch
}

// RewardDistribution bins one reward's values per bucket of steps from the
// sketches stored with each step (see MergeSketches): it reads one row per
// step, however many rollouts each has, and Go folds them into counts and
// quantiles.
func (s Common) RewardDistribution(ctx context.Context, q expt.DistributionQuery) (*expt.RewardDistribution, error) {
	if err := checkDistribution(q); err != nil {
		return nil, err
	}
	pk, err := s.pk(ctx, q.ExperimentID)
	if err != nil {
		return nil, err
	}
	out := &expt.RewardDistribution{Name: q.Name, Mode: q.Mode, Bins: q.Bins, BucketSteps: 1, Steps: []expt.DistributionStep{}}
	c := s.e.Read
	w := NewWhere(c.Dollar())
	nameID, ok, err := QueryID(ctx, c, "reward name", `SELECT id FROM reward_names WHERE experiment = `+w.Bind(pk)+` AND name = `+w.Bind(q.Name), w.Args...)
	if err != nil || !ok {
		return out, err
	}
	w = NewWhere(c.Dollar())
	return sketchDistribution(ctx, c, out, q, "reward", `SELECT step, count, nans, sketch FROM step_rewards WHERE experiment = `+w.Bind(pk)+
		` AND mode = `+w.Bind(q.Mode)+` AND name_id = `+w.Bind(nameID)+` ORDER BY step`, w.Args,
		func(lo, hi int64) (map[int64]*Sketch, error) { return rewardValues(ctx, c, pk, q.Mode, nameID, lo, hi) })
}

// LengthDistribution is RewardDistribution for the response length
// (expt.ResponseLength) of every rollout, from the sketches of step_counts.
func (s Common) LengthDistribution(ctx context.Context, q expt.DistributionQuery) (*expt.RewardDistribution, error) {
	if err := checkDistribution(q); err != nil {
		return nil, err
	}
	pk, err := s.pk(ctx, q.ExperimentID)
	if err != nil {
		return nil, err
	}
	out := &expt.RewardDistribution{Mode: q.Mode, Bins: q.Bins, BucketSteps: 1, Steps: []expt.DistributionStep{}}
	c := s.e.Read
	w := NewWhere(c.Dollar())
	return sketchDistribution(ctx, c, out, q, "length", `SELECT step, count, 0, lengths FROM step_counts WHERE experiment = `+w.Bind(pk)+
		` AND mode = `+w.Bind(q.Mode)+` ORDER BY step`, w.Args,
		func(lo, hi int64) (map[int64]*Sketch, error) { return responseLengths(ctx, c, pk, q.Mode, lo, hi) })
}

// sketchDistribution reads the per-step sketches of one series (sql: rows
// of step, count, nans, sketch), rebuilds those of steps stored before
// sketches existed (and not written since) from their rollouts, and folds
// them into out.
func sketchDistribution(ctx context.Context, c Conn, out *expt.RewardDistribution, q expt.DistributionQuery, what, sql string, args []any,
	rebuild func(lo, hi int64) (map[int64]*Sketch, error)) (*expt.RewardDistribution, error) {
	rows, err := c.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("select %s sketches: %w", what, err)
	}
	steps, legacy, err := scanSketches(rows)
	if err != nil {
		return nil, fmt.Errorf("select %s sketches: %w", what, err)
	}
	if len(legacy) > 0 {
		built, err := rebuild(legacy[0], legacy[len(legacy)-1])
		if err != nil {
			return nil, err
		}
		fill(steps, built)
	}
	distribute(out, steps, q)
	return out, nil
}

func checkDistribution(q expt.DistributionQuery) error {
	if q.Bins < 1 || q.Bins > expt.MaxDistributionBins {
		return expt.Errorf(expt.EINVALID, "bins: must be 1 to %d", expt.MaxDistributionBins)
	}
	if q.MaxSteps < 1 || q.MaxSteps > expt.MaxDistributionSteps {
		return expt.Errorf(expt.EINVALID, "maxSteps: must be 1 to %d", expt.MaxDistributionSteps)
	}
	return nil
}

// scanSketches reads rows of (step, count, nans, sketch) and returns the
// steps whose sketch is NULL although they have values: stored before
// sketches existed and not written since.
func scanSketches(rows QueryRows) (steps []stepSketch, legacy []int64, err error) {
	defer rows.Close()
	for rows.Next() {
		var st stepSketch
		var count int64
		var blob []byte
		if err := rows.Scan(&st.step, &count, &st.nans, &blob); err != nil {
			return nil, nil, err
		}
		if blob == nil {
			if count > 0 {
				legacy = append(legacy, st.step)
			}
			st.sk = &Sketch{}
		} else if st.sk, err = DecodeSketch(blob); err != nil {
			return nil, nil, fmt.Errorf("step %d: %w", st.step, err)
		}
		steps = append(steps, st)
	}
	return steps, legacy, rows.Err()
}

// fill puts rebuilt sketches into the steps that lacked them.
func fill(steps []stepSketch, built map[int64]*Sketch) {
	for i := range steps {
		if sk, ok := built[steps[i].step]; ok && steps[i].sk.Len() == 0 && steps[i].sk.Inf == 0 {
			steps[i].sk = sk
		}
	}
}

// distribute folds the steps' sketches into out: buckets of consecutive
// steps, Bins equal bins over the finite range, mean and quantiles.
func distribute(out *expt.RewardDistribution, steps []stepSketch, q expt.DistributionQuery) {
	if len(steps) == 0 {
		return
	}
	seen := false
	for _, st := range steps {
		if st.sk.Len() == 0 {
			continue
		}
		if !seen || st.sk.Min < out.Lo {
			out.Lo = st.sk.Min
		}
		if !seen || st.sk.Max > out.Hi {
			out.Hi = st.sk.Max
		}
		seen = true
	}
	span := out.Hi - out.Lo
	if span <= 0 {
		span = 1 // one value: everything in the first bin
	}
	first, last := steps[0].step, steps[len(steps)-1].step
	width := (last - first + int64(q.MaxSteps)) / int64(q.MaxSteps) // ceil((last-first+1)/maxSteps)
	out.BucketSteps = width
	type centroid struct {
		v float64
		w int64
	}
	var cs []centroid
	for i := 0; i < len(steps); {
		b := (steps[i].step - first) / width
		st := expt.DistributionStep{Step: first + b*width, Counts: make([]int64, q.Bins)}
		cs = cs[:0]
		total := 0.0
		for ; i < len(steps) && (steps[i].step-first)/width == b; i++ {
			sk := steps[i].sk
			st.NaNs += steps[i].nans + sk.Inf
			for j, v := range sk.V {
				n := sk.W[j]
				k := int((v - out.Lo) * float64(q.Bins) / span)
				st.Counts[min(max(k, 0), q.Bins-1)] += n // the maximum lands on the upper edge
				st.Count += n
				total += v * float64(n)
				cs = append(cs, centroid{v, n})
			}
		}
		st.Mean, st.P10, st.P50, st.P90 = math.NaN(), math.NaN(), math.NaN(), math.NaN()
		if st.Count > 0 {
			st.Mean = total / float64(st.Count)
			slices.SortFunc(cs, func(a, b centroid) int { return cmp.Compare(a.v, b.v) })
			quantile := func(p float64) float64 {
				rank := max(int64(math.Ceil(p*float64(st.Count))), 1) // nearest rank
				var seen int64
				for _, c := range cs {
					if seen += c.w; seen >= rank {
						return c.v
					}
				}
				return cs[len(cs)-1].v
			}
			st.P10, st.P50, st.P90 = quantile(0.1), quantile(0.5), quantile(0.9)
		}
		out.Steps = append(out.Steps, st)
	}
}
