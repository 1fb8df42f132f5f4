package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/internal/storekit"
)

// Metrics lists the series of an experiment with their point counts.
func (db *DB) Metrics(ctx context.Context, experimentID string) ([]expt.Metric, error) {
	pk, err := experimentPK(ctx, db.rd, experimentID)
	if err != nil {
		return nil, err
	}
	if err := db.refreshRollups(ctx, `SELECT id FROM series WHERE experiment = $1`, pk); err != nil {
		return nil, err
	}
	// Dirty buckets (written after the refresh) are counted from points.
	return storekit.QueryMetrics(ctx, db.rd, `SELECT s.mode, s.name,
			coalesce(sum(CASE WHEN r.dirty = 0 THEN r.count ELSE (SELECT count(*) FROM points p
				WHERE p.series_id = s.id AND p.step BETWEEN r.bucket * 1024 AND r.bucket * 1024 + 1023) END), 0),
			coalesce((SELECT max(step) FROM points p WHERE p.series_id = s.id), 0)
		FROM series s LEFT JOIN rollups r ON r.series_id = s.id WHERE s.experiment = $1
		GROUP BY s.id ORDER BY s.mode COLLATE "C", s.name COLLATE "C"`, pk)
}

// seriesID finds a series; ok is false when the experiment has no such metric.
func (db *DB) seriesID(ctx context.Context, pk int64, mode, name string) (int64, bool, error) {
	return db.cache.series.Load(pk, seriesKey{Mode: mode, Name: name}, func() (int64, bool, error) {
		return storekit.QueryID(ctx, db.rd, "series", `SELECT id FROM series WHERE experiment = $1 AND mode = $2 AND name = $3`, pk, mode, name)
	})
}

// Series returns one metric over a step range, downsampled to at most
// q.MaxPoints min/max/last buckets when it has more points than that.
func (db *DB) Series(ctx context.Context, q expt.SeriesQuery) (*expt.Series, error) {
	if q.MaxPoints < 0 {
		return nil, expt.Errorf(expt.EINVALID, "maxPoints must not be negative")
	}
	pk, err := experimentPK(ctx, db.rd, q.ExperimentID)
	if err != nil {
		return nil, err
	}
	out := &expt.Series{Mode: q.Mode, Name: q.Name, Buckets: []expt.Bucket{}}
	sid, ok, err := db.seriesID(ctx, pk, q.Mode, q.Name)
	if err != nil || !ok {
		return out, err
	}
	if err := db.refreshRollups(ctx, `SELECT $1::bigint`, sid); err != nil {
		return nil, err
	}
	// One snapshot for rollups and raw edge points alike.
	err = db.tx(ctx, readOnly, func(tx pgx.Tx) error {
		out.Total, out.Downsampled, out.Buckets = 0, false, []expt.Bucket{}
		lo, hi, ok, err := storekit.StepRange(ctx, conn{tx}, sid, q.FromStep, q.ToStep)
		if err != nil || !ok {
			return err
		}
		return fillSeries(ctx, tx, out, sid, lo, hi, q.MaxPoints)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func fillSeries(ctx context.Context, tx pgx.Tx, out *expt.Series, sid, lo, hi int64, maxPoints int) error {
	units, err := rollupUnits(ctx, tx, sid, lo, hi)
	if err != nil {
		return err
	}
	for _, u := range units {
		out.Total += u.Count
	}
	if maxPoints == 0 || out.Total <= int64(maxPoints) {
		return eachPoint(ctx, tx, sid, lo, hi, func(step int64, v, ts float64) {
			out.Buckets = append(out.Buckets, expt.Bucket{Count: 1, MinStep: step, Min: v, MaxStep: step, Max: v, LastStep: step, Last: v, LastTS: ts})
		})
	}
	out.Downsampled = true
	need := storekit.BucketWidth(lo, hi, maxPoints, 1)
	var cur storekit.BucketAgg
	curKey := int64(-1)
	flush := func() {
		if cur.Count > 0 {
			out.Buckets = append(out.Buckets, cur.Summary())
		}
	}
	if need < rollupWidth && out.Total <= storekit.RawScanLimit {
		err := eachPoint(ctx, tx, sid, lo, hi, func(step int64, v, ts float64) {
			if k := step / need; k != curKey {
				flush()
				cur, curKey = storekit.BucketAgg{}, k
			}
			cur.Add(step, v, ts)
		})
		flush()
		return err
	}
	w := storekit.BucketWidth(lo, hi, maxPoints, rollupWidth)
	for _, u := range units {
		if k := (u.bucket << rollupShift) / w; k != curKey {
			flush()
			cur, curKey = storekit.BucketAgg{}, k
		}
		cur.Merge(u.BucketAgg)
	}
	flush()
	return nil
}

// unit is one rollup bucket's summary, restricted to [lo, hi].
type unit struct {
	bucket int64
	storekit.BucketAgg
}

// rollupUnits summarises [lo, hi] per rollup bucket: clean whole buckets
// from rollups, dirty ones and the partial ones at either edge from raw points.
func rollupUnits(ctx context.Context, tx pgx.Tx, sid, lo, hi int64) ([]unit, error) {
	bl, bh := lo>>rollupShift, hi>>rollupShift
	rows, err := tx.Query(ctx, `SELECT bucket, dirty, count, first_step, min_step, min, max_step, max, last_step, last, last_ts
		FROM rollups WHERE series_id = $1 AND bucket BETWEEN $2 AND $3 AND (count > 0 OR dirty > 0) ORDER BY bucket`, sid, bl, bh)
	if err != nil {
		return nil, fmt.Errorf("select rollups: %w", err)
	}
	var units []unit
	var dirty []bool
	for rows.Next() {
		var u unit
		var d int64
		if err := storekit.ScanRollup(rows, &u.bucket, &d, &u.BucketAgg); err != nil {
			rows.Close()
			return nil, err
		}
		units = append(units, u)
		dirty = append(dirty, d > 0)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select rollups: %w", err)
	}
	b := &pgx.Batch{}
	for i := range units {
		start := units[i].bucket << rollupShift
		end := start + rollupWidth - 1
		if start >= lo && end <= hi && !dirty[i] {
			continue
		}
		units[i].BucketAgg = storekit.BucketAgg{}
		a := &units[i].BucketAgg
		b.Queue(selectPointsSQL, sid, max(start, lo), min(end, hi)).Query(func(rows pgx.Rows) error {
			return foldRows(rows, a.Add)
		})
	}
	if b.Len() > 0 {
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return nil, fmt.Errorf("fold rollups: %w", err)
		}
	}
	kept := units[:0]
	for _, u := range units {
		if u.Count > 0 {
			kept = append(kept, u)
		}
	}
	return kept, nil
}
