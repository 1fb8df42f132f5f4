package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"

	"github.com/expt-logger/expt"
)

// rawScanLimit is the most points Series folds from raw rows when the
// requested bucket width is under one rollup bucket; above it, Series uses
// 1024-step rollup buckets (fewer buckets than asked, still fast).
const rawScanLimit = 128 << 10

// Metrics lists the series of an experiment with their point counts.
func (db *DB) Metrics(ctx context.Context, experimentID string) ([]expt.Metric, error) {
	pk, err := db.experimentPK(ctx, db.read, experimentID)
	if err != nil {
		return nil, err
	}
	if err := db.refreshRollups(ctx, `SELECT id FROM series WHERE experiment = ?`, pk); err != nil {
		return nil, err
	}
	rows, err := db.read.QueryContext(ctx, `SELECT s.mode, s.name, coalesce(sum(r.count), 0), coalesce(max(r.last_step), 0)
		FROM series s LEFT JOIN rollups r ON r.series_id = s.id WHERE s.experiment = ?
		GROUP BY s.id ORDER BY s.mode, s.name`, pk)
	if err != nil {
		return nil, fmt.Errorf("select metrics: %w", err)
	}
	defer rows.Close()
	out := []expt.Metric{}
	for rows.Next() {
		var m expt.Metric
		if err := rows.Scan(&m.Mode, &m.Name, &m.Count, &m.LastStep); err != nil {
			return nil, fmt.Errorf("scan metric: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Scalars returns every point of every metric of one mode.
func (db *DB) Scalars(ctx context.Context, experimentID, mode string) (map[string][]expt.Point, error) {
	pk, err := db.experimentPK(ctx, db.read, experimentID)
	if err != nil {
		return nil, err
	}
	rows, err := db.read.QueryContext(ctx, `SELECT s.name, p.step, p.value, p.ts FROM series s JOIN points p ON p.series_id = s.id
		WHERE s.experiment = ? AND s.mode = ? ORDER BY s.name, p.step`, pk, mode)
	if err != nil {
		return nil, fmt.Errorf("select scalars: %w", err)
	}
	defer rows.Close()
	out := map[string][]expt.Point{}
	for rows.Next() {
		var name string
		var p expt.Point
		var v sql.NullFloat64
		if err := rows.Scan(&name, &p.Step, &v, &p.TS); err != nil {
			return nil, fmt.Errorf("scan scalar: %w", err)
		}
		p.Value = v.Float64
		if !v.Valid {
			p.Value = math.NaN()
		}
		out[name] = append(out[name], p)
	}
	return out, rows.Err()
}

// seriesID finds a series; ok is false when the experiment has no such metric.
func (db *DB) seriesID(ctx context.Context, pk int64, mode, name string) (int64, bool, error) {
	k := seriesKey{pk, mode, name}
	db.cache.mu.Lock()
	id, ok := db.cache.series[k]
	db.cache.mu.Unlock()
	if ok {
		return id, true, nil
	}
	err := db.read.QueryRowContext(ctx, `SELECT id FROM series WHERE experiment = ? AND mode = ? AND name = ?`, pk, mode, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	} else if err != nil {
		return 0, false, fmt.Errorf("select series: %w", err)
	}
	db.cache.mu.Lock()
	db.cache.series[k] = id
	db.cache.mu.Unlock()
	return id, true, nil
}

// Series returns one metric over a step range, downsampled to at most
// q.MaxPoints min/max/last buckets when it has more points than that.
func (db *DB) Series(ctx context.Context, q expt.SeriesQuery) (*expt.Series, error) {
	if q.MaxPoints < 0 {
		return nil, expt.Errorf(expt.EINVALID, "maxPoints must not be negative")
	}
	pk, err := db.experimentPK(ctx, db.read, q.ExperimentID)
	if err != nil {
		return nil, err
	}
	out := &expt.Series{Mode: q.Mode, Name: q.Name, Buckets: []expt.Bucket{}}
	sid, ok, err := db.seriesID(ctx, pk, q.Mode, q.Name)
	if err != nil || !ok {
		return out, err
	}
	lo, hi, ok, err := db.stepRange(ctx, sid, q.FromStep, q.ToStep)
	if err != nil || !ok {
		return out, err
	}
	if err := db.refreshRollups(ctx, `SELECT ?`, sid); err != nil {
		return nil, err
	}
	// The read runs in one transaction so that rollups and raw edge points
	// come from the same snapshot.
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback()
	units, err := rollupUnits(ctx, tx, sid, lo, hi)
	if err != nil {
		return nil, err
	}
	for _, u := range units {
		out.Total += u.b.Count
	}
	if q.MaxPoints == 0 || out.Total <= int64(q.MaxPoints) {
		err := eachPoint(ctx, tx, sid, lo, hi, func(step int64, v, ts float64) {
			out.Buckets = append(out.Buckets, expt.Bucket{Count: 1, MinStep: step, Min: v, MaxStep: step, Max: v, LastStep: step, Last: v, LastTS: ts})
		})
		return out, err
	}
	out.Downsampled = true
	need := width(lo, hi, q.MaxPoints, 1)
	if need < rollupWidth && out.Total <= rawScanLimit {
		var cur agg
		curKey := int64(-1)
		err := eachPoint(ctx, tx, sid, lo, hi, func(step int64, v, ts float64) {
			if k := step / need; k != curKey {
				if cur.b.Count > 0 {
					out.Buckets = append(out.Buckets, cur.bucket())
				}
				cur, curKey = agg{}, k
			}
			cur.add(step, v, ts)
		})
		if cur.b.Count > 0 {
			out.Buckets = append(out.Buckets, cur.bucket())
		}
		return out, err
	}
	w := width(lo, hi, q.MaxPoints, rollupWidth)
	var cur agg
	curKey := int64(-1)
	for _, u := range units {
		if k := (u.bucket << rollupShift) / w; k != curKey {
			if cur.b.Count > 0 {
				out.Buckets = append(out.Buckets, cur.bucket())
			}
			cur, curKey = agg{}, k
		}
		cur.merge(u.agg)
	}
	if cur.b.Count > 0 {
		out.Buckets = append(out.Buckets, cur.bucket())
	}
	return out, nil
}

// stepRange clips [from, to] to the steps the series has; ok is false when
// no point can be in it.
func (db *DB) stepRange(ctx context.Context, sid int64, from, to *int64) (lo, hi int64, ok bool, err error) {
	var first, last sql.NullInt64
	err = db.read.QueryRowContext(ctx, `SELECT (SELECT step FROM points WHERE series_id = ?1 ORDER BY step LIMIT 1),
		(SELECT step FROM points WHERE series_id = ?1 ORDER BY step DESC LIMIT 1)`, sid).Scan(&first, &last)
	if err != nil {
		return 0, 0, false, fmt.Errorf("select step range: %w", err)
	}
	if !first.Valid {
		return 0, 0, false, nil
	}
	lo, hi = first.Int64, last.Int64
	if from != nil {
		lo = max(lo, *from)
	}
	if to != nil {
		hi = min(hi, *to)
	}
	return lo, hi, lo <= hi, nil
}

// unit is one rollup bucket's summary, restricted to [lo, hi].
type unit struct {
	bucket int64
	agg
}

// rollupUnits summarises [lo, hi] per rollup bucket: whole buckets from
// rollups, the partial ones at either edge from raw points.
func rollupUnits(ctx context.Context, tx *sql.Tx, sid, lo, hi int64) ([]unit, error) {
	bl, bh := lo>>rollupShift, hi>>rollupShift
	rows, err := tx.QueryContext(ctx, `SELECT bucket, dirty, count, first_step, min_step, min, max_step, max, last_step, last, last_ts
		FROM rollups WHERE series_id = ? AND bucket BETWEEN ? AND ? AND (count > 0 OR dirty = 1) ORDER BY bucket`, sid, bl, bh)
	if err != nil {
		return nil, fmt.Errorf("select rollups: %w", err)
	}
	var units []unit
	var dirty []bool
	for rows.Next() {
		var u unit
		var d bool
		var minV, maxV, last sql.NullFloat64
		if err := rows.Scan(&u.bucket, &d, &u.b.Count, &u.first, &u.b.MinStep, &minV, &u.b.MaxStep, &maxV, &u.b.LastStep, &last, &u.b.LastTS); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan rollup: %w", err)
		}
		u.hasNum = minV.Valid
		u.b.Min, u.b.Max, u.b.Last = minV.Float64, maxV.Float64, last.Float64
		if !last.Valid {
			u.b.Last = math.NaN()
		}
		units = append(units, u)
		dirty = append(dirty, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select rollups: %w", err)
	}
	for i := range units {
		start := units[i].bucket << rollupShift
		end := start + rollupWidth - 1
		// A bucket dirtied by a write that landed after refreshRollups is
		// folded from its raw points, so the answer matches this snapshot.
		if start >= lo && end <= hi && !dirty[i] {
			continue
		}
		a, err := aggregatePoints(ctx, tx, sid, max(start, lo), min(end, hi))
		if err != nil {
			return nil, err
		}
		units[i].agg = a
	}
	// Dirty buckets may turn out empty; drop them so every unit has points.
	kept := units[:0]
	for _, u := range units {
		if u.b.Count > 0 {
			kept = append(kept, u)
		}
	}
	return kept, nil
}
