package storekit

import (
	"context"
	"fmt"
	"math"

	"github.com/expt-logger/expt"
)

// RewardDistribution bins one reward's values per bucket of steps in one
// GROUP BY: the database returns at most buckets × bins rows, however many
// rollouts there are, and Go folds them into counts and quantiles.
func (s Common) RewardDistribution(ctx context.Context, q expt.DistributionQuery) (*expt.RewardDistribution, error) {
	if q.Bins < 1 || q.Bins > expt.MaxDistributionBins {
		return nil, expt.Errorf(expt.EINVALID, "bins: must be 1 to %d", expt.MaxDistributionBins)
	}
	if q.MaxSteps < 1 || q.MaxSteps > expt.MaxDistributionSteps {
		return nil, expt.Errorf(expt.EINVALID, "maxSteps: must be 1 to %d", expt.MaxDistributionSteps)
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
	// The range over finite values (NULL is NaN; ±Inf is left out too).
	var lo, hi *float64
	w = NewWhere(c.Dollar())
	if err := c.QueryRow(ctx, `SELECT min(value), max(value) FROM rewards WHERE name_id = `+w.Bind(nameID)+
		` AND value > `+w.Bind(-math.MaxFloat64)+` AND value < `+w.Bind(math.MaxFloat64), w.Args...).Scan(&lo, &hi); err != nil {
		return nil, fmt.Errorf("select reward range: %w", err)
	}
	var first, last *int64
	w = NewWhere(c.Dollar())
	if err := c.QueryRow(ctx, `SELECT min(step), max(step) FROM step_counts WHERE experiment = `+w.Bind(pk)+` AND mode = `+w.Bind(q.Mode), w.Args...).Scan(&first, &last); err != nil {
		return nil, fmt.Errorf("select step range: %w", err)
	}
	if first == nil {
		return out, nil
	}
	if lo != nil {
		out.Lo, out.Hi = *lo, *hi
	}
	span := out.Hi - out.Lo
	if span <= 0 {
		span = 1 // one value: everything in the first bin
	}
	width := (*last - *first + int64(q.MaxSteps)) / int64(q.MaxSteps) // ceil((last-first+1)/maxSteps)
	out.BucketSteps = width

	// Built left to right: "?" placeholders bind in the order they appear.
	w = NewWhere(c.Dollar())
	sql := `SELECT (r.step - ` + w.Bind(*first) + `) / ` + w.Bind(width) + ` AS b, `
	sql += `CASE WHEN ` + finite(w) + ` THEN ` + s.e.Floor(`(w.value - `+w.Bind(out.Lo)+`) * `+w.Bind(float64(q.Bins))+` / `+w.Bind(span)) + ` ELSE -1 END AS bin, `
	sql += `count(*), sum(CASE WHEN ` + finite(w) + ` THEN w.value ELSE 0 END)
		FROM rewards w JOIN rollouts r ON r.id = w.rollout_id
		WHERE w.name_id = ` + w.Bind(nameID) + ` AND r.mode = ` + w.Bind(q.Mode) + `
		GROUP BY 1, 2 ORDER BY 1`
	rows, err := c.Query(ctx, sql, w.Args...)
	if err != nil {
		return nil, fmt.Errorf("select reward distribution: %w", err)
	}
	defer rows.Close()
	type acc struct {
		counts []int64
		sums   []float64
		nans   int64
	}
	buckets := map[int64]*acc{}
	var order []int64
	for rows.Next() {
		var b, k, n int64
		var sum float64
		if err := rows.Scan(&b, &k, &n, &sum); err != nil {
			return nil, fmt.Errorf("scan reward distribution: %w", err)
		}
		a := buckets[b]
		if a == nil {
			a = &acc{counts: make([]int64, q.Bins), sums: make([]float64, q.Bins)}
			buckets[b] = a
			order = append(order, b)
		}
		if k < 0 {
			a.nans += n
			continue
		}
		k = min(k, int64(q.Bins-1)) // the maximum lands on the upper edge
		a.counts[k] += n
		a.sums[k] += sum
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select reward distribution: %w", err)
	}
	for _, b := range order {
		a := buckets[b]
		st := expt.DistributionStep{Step: *first + b*width, NaNs: a.nans, Counts: a.counts}
		total := 0.0
		for i, n := range a.counts {
			st.Count += n
			total += a.sums[i]
		}
		st.Mean, st.P10, st.P50, st.P90 = math.NaN(), math.NaN(), math.NaN(), math.NaN()
		if st.Count > 0 {
			st.Mean = total / float64(st.Count)
			st.P10, st.P50, st.P90 = binQuantile(a.counts, a.sums, st.Count, 0.1), binQuantile(a.counts, a.sums, st.Count, 0.5), binQuantile(a.counts, a.sums, st.Count, 0.9)
		}
		out.Steps = append(out.Steps, st)
	}
	return out, nil
}

// finite is "w.value is a finite number" (NULL is NaN), binding its bounds
// at each use.
func finite(w *Where) string {
	return `w.value > ` + w.Bind(-math.MaxFloat64) + ` AND w.value < ` + w.Bind(math.MaxFloat64)
}

// binQuantile is the mean of the values in the bin holding the q-quantile
// (nearest rank).
func binQuantile(counts []int64, sums []float64, total int64, q float64) float64 {
	rank := int64(math.Ceil(q * float64(total)))
	if rank < 1 {
		rank = 1
	}
	var seen int64
	for i, n := range counts {
		seen += n
		if seen >= rank && n > 0 {
			return sums[i] / float64(n)
		}
	}
	return math.NaN()
}
