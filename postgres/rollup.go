package postgres

import (
	"context"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"

	"github.com/expt-logger/expt/internal/storekit"
)

// rollupShift sets the rollup width: 1 << 10 = 1024 steps per bucket, so
// recomputing a dirty bucket reads at most 1024 points.
const (
	rollupShift = 10
	rollupWidth = int64(1) << rollupShift
)

// refreshRollups recomputes the dirty rollup buckets of the series that
// seriesSQL (a SELECT of series ids over $1) names. Reads call it first, so
// writes only ever pay for marking a bucket dirty. A bucket is marked clean
// only if its generation is still the one read here: a write committed
// meanwhile leaves it dirty for the next reader.
func (db *DB) refreshRollups(ctx context.Context, seriesSQL string, arg any) error {
	type key struct{ sid, bucket, gen int64 }
	rows, err := db.pool.Query(ctx, `SELECT series_id, bucket, dirty FROM rollups WHERE dirty > 0 AND series_id IN (`+seriesSQL+`)`, arg)
	if err != nil {
		return fmt.Errorf("select dirty rollups: %w", err)
	}
	dirty, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (key, error) {
		var k key
		err := r.Scan(&k.sid, &k.bucket, &k.gen)
		return k, err
	})
	if err != nil {
		return fmt.Errorf("select dirty rollups: %w", err)
	}
	if len(dirty) == 0 {
		return nil
	}
	// Each bucket is folded from its points and written back in one round
	// trip per 64 buckets; a bucket is consistent on its own, so no
	// transaction spans them.
	for start := 0; start < len(dirty); start += 64 {
		part := dirty[start:min(start+64, len(dirty))]
		aggs := make([]storekit.BucketAgg, len(part))
		b := &pgx.Batch{}
		for i, k := range part {
			lo := k.bucket << rollupShift
			b.Queue(selectPointsSQL, k.sid, lo, lo+rollupWidth-1).Query(func(rows pgx.Rows) error {
				return foldRows(rows, func(step int64, v, ts float64) { aggs[i].Add(step, v, ts) })
			})
		}
		if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("fold rollups: %w", err)
		}
		b = &pgx.Batch{}
		for i, k := range part {
			a := aggs[i]
			var minV, maxV *float64
			if a.HasNum {
				minV, maxV = &a.Min, &a.Max
			}
			b.Queue(`UPDATE rollups SET dirty = 0, count = $1, first_step = $2, min_step = $3, min = $4,
				max_step = $5, max = $6, last_step = $7, last = NULLIF($8::float8, 'NaN'), last_ts = $9
				WHERE series_id = $10 AND bucket = $11 AND dirty = $12`,
				a.Count, a.First, a.MinStep, minV, a.MaxStep, maxV, a.LastStep, a.Last, a.LastTS, k.sid, k.bucket, k.gen)
		}
		if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("update rollups: %w", err)
		}
	}
	return nil
}

const selectPointsSQL = `SELECT step, value, ts FROM points WHERE series_id = $1 AND step BETWEEN $2 AND $3 ORDER BY step`

// foldRows calls fn for every (step, value, ts) row; a NULL value is NaN.
func foldRows(rows pgx.Rows, fn func(step int64, v, ts float64)) error {
	defer rows.Close()
	for rows.Next() {
		var step int64
		var v *float64
		var ts float64
		if err := rows.Scan(&step, &v, &ts); err != nil {
			return fmt.Errorf("scan point: %w", err)
		}
		val := math.NaN()
		if v != nil {
			val = *v
		}
		fn(step, val, ts)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("select points: %w", err)
	}
	return nil
}

// eachPoint calls fn for every point of a series in [lo, hi], by step.
func eachPoint(ctx context.Context, q pointQuerier, sid, lo, hi int64, fn func(step int64, v, ts float64)) error {
	rows, err := q.Query(ctx, selectPointsSQL, sid, lo, hi)
	if err != nil {
		return fmt.Errorf("select points: %w", err)
	}
	return foldRows(rows, fn)
}

type pointQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}
