package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/internal/storekit"
)

// Metrics lists the series of an experiment with their point counts.
func (db *DB) Metrics(ctx context.Context, experimentID string) ([]expt.Metric, error) {
	pk, err := db.experimentPK(ctx, db.rd, experimentID)
	if err != nil {
		return nil, err
	}
	if err := db.refreshRollups(ctx, `SELECT id FROM series WHERE experiment = ?`, pk); err != nil {
		return nil, err
	}
	return storekit.QueryMetrics(ctx, db.rd, `SELECT s.mode, s.name, coalesce(sum(r.count), 0), coalesce(max(r.last_step), 0)
		FROM series s LEFT JOIN rollups r ON r.series_id = s.id WHERE s.experiment = ?
		GROUP BY s.id ORDER BY s.mode, s.name`, pk)
}

// seriesID finds a series; ok is false when the experiment has no such metric.
func (db *DB) seriesID(ctx context.Context, pk int64, mode, name string) (int64, bool, error) {
	return db.cache.series.Load(pk, storekit.SeriesName{Mode: mode, Name: name}, func() (int64, bool, error) {
		return storekit.QueryID(ctx, db.rd, "series", `SELECT id FROM series WHERE experiment = ? AND mode = ? AND name = ?`, pk, mode, name)
	})
}

// Series returns one metric over a step range, downsampled to at most
// q.MaxPoints min/max/last buckets when it has more points than that.
func (db *DB) Series(ctx context.Context, q expt.SeriesQuery) (*expt.Series, error) {
	if q.MaxPoints < 0 {
		return nil, expt.Errorf(expt.EINVALID, "maxPoints must not be negative")
	}
	pk, err := db.experimentPK(ctx, db.rd, q.ExperimentID)
	if err != nil {
		return nil, err
	}
	out := &expt.Series{Mode: q.Mode, Name: q.Name, Buckets: []expt.Bucket{}}
	sid, ok, err := db.seriesID(ctx, pk, q.Mode, q.Name)
	if err != nil || !ok {
		return out, err
	}
	lo, hi, ok, err := storekit.StepRange(ctx, db.rd, sid, q.FromStep, q.ToStep)
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
	plan := planSeries(lo, hi, q.MaxPoints)
	units, err := rollupUnits(ctx, tx, sid, lo, hi, plan.level == levelFine)
	if err != nil {
		return nil, err
	}
	for _, u := range units {
		out.Total += u.Count
	}
	if q.MaxPoints == 0 || out.Total <= int64(q.MaxPoints) {
		err := eachPoint(ctx, tx, sid, lo, hi, func(step int64, v, ts float64) {
			out.Buckets = append(out.Buckets, expt.Bucket{Count: 1, MinStep: step, Min: v, MaxStep: step, Max: v, LastStep: step, Last: v, LastTS: ts})
		})
		return out, err
	}
	out.Downsampled = true
	var cur storekit.BucketAgg
	curKey := int64(-1)
	fold := func(start int64, a storekit.BucketAgg) {
		if k := start / plan.width; k != curKey {
			if cur.Count > 0 {
				out.Buckets = append(out.Buckets, cur.Summary())
			}
			cur, curKey = storekit.BucketAgg{}, k
		}
		cur.Merge(a)
	}
	switch plan.level {
	case levelRaw:
		err = eachPoint(ctx, tx, sid, lo, hi, func(step int64, v, ts float64) {
			if k := step / plan.width; k != curKey {
				if cur.Count > 0 {
					out.Buckets = append(out.Buckets, cur.Summary())
				}
				cur, curKey = storekit.BucketAgg{}, k
			}
			cur.Add(step, v, ts)
		})
		if err != nil {
			return nil, err
		}
	case levelFine:
		var pieces []piece
		for i := range units {
			if pieces, err = units[i].subBuckets(pieces[:0]); err != nil {
				return nil, err
			}
			for _, p := range pieces {
				fold(p.sub<<fineShift, p.BucketAgg)
			}
		}
	default:
		for _, u := range units {
			fold(u.bucket<<rollupShift, u.BucketAgg)
		}
	}
	if cur.Count > 0 {
		out.Buckets = append(out.Buckets, cur.Summary())
	}
	return out, nil
}

// Levels Series folds from: raw points, sub-buckets, rollup buckets.
const (
	levelRaw = iota
	levelFine
	levelRollup
)

// seriesPlan is the level to fold and the width of the aligned output
// buckets (step / width), a multiple of the level's width.
type seriesPlan struct {
	level int
	width int64
}

// planSeries picks the coarsest level whose buckets still give a chart
// most of the maxPoints buckets it asks for (at least a quarter, at least
// half when the asked width is a whole rollup or more): rows read stay
// near maxPoints whatever the range.
func planSeries(lo, hi int64, maxPoints int) seriesPlan {
	if maxPoints <= 0 {
		return seriesPlan{level: levelRollup, width: rollupWidth}
	}
	need := storekit.BucketWidth(lo, hi, maxPoints, 1)
	switch {
	case need >= rollupWidth:
		return seriesPlan{levelRollup, storekit.BucketWidth(lo, hi, maxPoints, rollupWidth)}
	case need*4 <= fineWidth && hi-lo < storekit.RawScanLimit:
		return seriesPlan{levelRaw, need}
	}
	w := storekit.BucketWidth(lo, hi, maxPoints, fineWidth)
	if w%rollupWidth == 0 {
		return seriesPlan{levelRollup, w}
	}
	return seriesPlan{levelFine, w}
}

// unit is one rollup bucket's summary, restricted to [lo, hi]. Its
// sub-buckets are in pieces when they had to be computed (a bucket at an
// edge of the range, or dirty), else encoded in fine when asked for.
type unit struct {
	bucket int64
	storekit.BucketAgg
	computed bool
	pieces   []piece
	fine     []byte
}

// subBuckets appends the unit's sub-bucket summaries to dst.
func (u *unit) subBuckets(dst []piece) ([]piece, error) {
	if u.computed {
		return append(dst, u.pieces...), nil
	}
	return decodeFine(dst, u.bucket<<rollupShift, u.fine)
}

// rollupUnits summarises [lo, hi] per rollup bucket: whole buckets from
// rollups, the partial ones at either edge from their sub-buckets and the
// raw points of the partial sub-buckets. withFine asks for the sub-buckets
// of whole buckets too.
func rollupUnits(ctx context.Context, tx *sql.Tx, sid, lo, hi int64, withFine bool) ([]unit, error) {
	bl, bh := lo>>rollupShift, hi>>rollupShift
	// fine only where needed: it is most of the row, read from an overflow page.
	rows, err := tx.QueryContext(ctx, `SELECT bucket, dirty, count, first_step, min_step, min, max_step, max, last_step, last, last_ts,
		CASE WHEN ?4 OR bucket = ?2 OR bucket = ?3 THEN fine END
		FROM rollups WHERE series_id = ?1 AND bucket BETWEEN ?2 AND ?3 AND (count > 0 OR dirty = 1) ORDER BY bucket`, sid, bl, bh, withFine)
	if err != nil {
		return nil, fmt.Errorf("select rollups: %w", err)
	}
	var units []unit
	var stale []bool
	for rows.Next() {
		var u unit
		var d bool
		if err := storekit.ScanRollup(rows, &u.bucket, &d, &u.BucketAgg, &u.fine); err != nil {
			rows.Close()
			return nil, err
		}
		units = append(units, u)
		// A bucket dirtied by a write that landed after refreshRollups is
		// folded from its raw points, so the answer matches this snapshot;
		// so is one without sub-buckets, which a refresh always writes.
		stale = append(stale, d || u.fine == nil && u.Count > 0 && (withFine || u.bucket == bl || u.bucket == bh))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select rollups: %w", err)
	}
	for i := range units {
		u := &units[i]
		start := u.bucket << rollupShift
		end := start + rollupWidth - 1
		if start >= lo && end <= hi && !stale[i] {
			continue
		}
		u.computed = true
		if stale[i] {
			var f folder
			if err := eachPoint(ctx, tx, sid, max(start, lo), min(end, hi), f.add); err != nil {
				return nil, err
			}
			u.pieces = f.pieces
		} else {
			all, err := decodeFine(nil, start, u.fine)
			if err != nil {
				return nil, err
			}
			for _, p := range all {
				ps, pe := p.sub<<fineShift, p.sub<<fineShift+fineWidth-1
				switch {
				case pe < lo || ps > hi:
				case ps >= lo && pe <= hi:
					u.pieces = append(u.pieces, p)
				default:
					var f folder
					if err := eachPoint(ctx, tx, sid, max(ps, lo), min(pe, hi), f.add); err != nil {
						return nil, err
					}
					u.pieces = append(u.pieces, f.pieces...)
				}
			}
		}
		u.BucketAgg = mergePieces(u.pieces)
	}
	// Dirty buckets may turn out empty; drop them so every unit has points.
	kept := units[:0]
	for _, u := range units {
		if u.Count > 0 {
			kept = append(kept, u)
		}
	}
	return kept, nil
}
