package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"
)

// rollupShift sets the rollup width: 1 << 10 = 1024 steps per bucket, so
// recomputing a dirty bucket reads at most 1024 points.
const (
	rollupShift = 10
	rollupWidth = int64(1) << rollupShift
)

// refreshRollups recomputes the dirty rollup buckets of the series that
// `seriesSQL` (a SELECT of series ids, with args) names. Reads call it
// first, so writes only ever pay for marking a bucket dirty.
func (db *DB) refreshRollups(ctx context.Context, seriesSQL string, args ...any) error {
	var any_ int
	err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM rollups WHERE dirty = 1 AND series_id IN (`+seriesSQL+`) LIMIT 1)`, args...).Scan(&any_)
	if err != nil {
		return fmt.Errorf("find dirty rollups: %w", err)
	}
	if any_ == 0 {
		return nil
	}
	return db.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT series_id, bucket FROM rollups WHERE dirty = 1 AND series_id IN (`+seriesSQL+`)`, args...)
		if err != nil {
			return fmt.Errorf("select dirty rollups: %w", err)
		}
		type key struct{ sid, bucket int64 }
		var dirty []key
		for rows.Next() {
			var k key
			if err := rows.Scan(&k.sid, &k.bucket); err != nil {
				rows.Close()
				return fmt.Errorf("scan dirty rollup: %w", err)
			}
			dirty = append(dirty, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("select dirty rollups: %w", err)
		}
		upd, err := tx.PrepareContext(ctx, `UPDATE rollups SET dirty = 0, count = ?, first_step = ?, min_step = ?, min = ?,
			max_step = ?, max = ?, last_step = ?, last = ?, last_ts = ?, fine = ? WHERE series_id = ? AND bucket = ?`)
		if err != nil {
			return fmt.Errorf("prepare rollup update: %w", err)
		}
		defer upd.Close()
		for _, k := range dirty {
			lo := k.bucket << rollupShift
			var f folder
			if err := eachPoint(ctx, tx, k.sid, lo, lo+rollupWidth-1, f.add); err != nil {
				return err
			}
			a := mergePieces(f.pieces)
			var minV, maxV any
			if a.HasNum {
				minV, maxV = a.Min, a.Max
			}
			if _, err := upd.ExecContext(ctx, a.Count, a.First, a.MinStep, minV, a.MaxStep, maxV,
				a.LastStep, nullable(a.Last), a.LastTS, encodeFine(lo, f.pieces), k.sid, k.bucket); err != nil {
				return fmt.Errorf("update rollup: %w", err)
			}
		}
		return nil
	})
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// eachPoint calls fn for every point of a series in [lo, hi], by step.
func eachPoint(ctx context.Context, q querier, sid, lo, hi int64, fn func(step int64, v, ts float64)) error {
	rows, err := q.QueryContext(ctx, `SELECT step, value, ts FROM points WHERE series_id = ? AND step BETWEEN ? AND ? ORDER BY step`, sid, lo, hi)
	if err != nil {
		return fmt.Errorf("select points: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var step int64
		var v sql.NullFloat64
		var ts float64
		if err := rows.Scan(&step, &v, &ts); err != nil {
			return fmt.Errorf("scan point: %w", err)
		}
		if !v.Valid {
			v.Float64 = math.NaN()
		}
		fn(step, v.Float64, ts)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("select points: %w", err)
	}
	return nil
}
