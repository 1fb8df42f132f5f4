package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/expt-logger/expt"
)

// pointsPerInsert is how many rows one INSERT statement carries: measured
// fastest around 100 (fewer statements, still a small SQL text).
const pointsPerInsert = 100

const insertPointsHead = `INSERT OR REPLACE INTO points(series_id, step, value, ts) VALUES `
const insertPointsTail = ``

func valuesList(n, cols int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + ")"
	return strings.TrimSuffix(strings.Repeat(row+",", n), ",")
}

// WriteScalars stores a batch all or nothing, last write winning per
// (series, step). Concurrent calls share a transaction (see group_commit.go);
// each returns once the transaction holding its batch committed.
func (db *DB) WriteScalars(ctx context.Context, experimentID string, batch []expt.Scalar, idemKey string) (bool, error) {
	for i, s := range batch {
		if s.Mode == "" || s.Name == "" {
			return false, expt.Errorf(expt.EINVALID, "scalar %d: mode and name are required", i)
		}
		if s.Step < 0 {
			return false, expt.Errorf(expt.EINVALID, "scalar %d: step must not be negative", i)
		}
	}
	return db.scalars.write(&scalarWrite{ctx: ctx, experiment: experimentID, batch: batch, idemKey: idemKey,
		done: make(chan scalarResult, 1)})
}

// writeScalarBatch writes one batch in tx. Series it creates are added to
// created; known holds series created earlier in the same transaction.
func (db *DB) writeScalarBatch(ctx context.Context, tx *sql.Tx, w *scalarWrite, created, known map[seriesKey]int64) (bool, error) {
	pk, err := db.experimentPK(ctx, tx, w.experiment)
	if err != nil {
		return false, err
	}
	if ok, err := claimIdempotencyKey(ctx, tx, pk, w.idemKey); err != nil || !ok {
		return false, err
	}
	batch := w.batch
	ids, err := db.seriesIDs(ctx, tx, pk, batch, created, known)
	if err != nil {
		return false, err
	}
	if err := db.insertPoints(ctx, tx, batch, ids); err != nil {
		return false, err
	}
	if err := markDirty(ctx, tx, batch, ids); err != nil {
		return false, err
	}
	var latest int64 = -1
	for _, s := range batch {
		latest = max(latest, s.Step)
	}
	if err := touchExperiment(ctx, tx, pk, latest); err != nil {
		return false, err
	}
	return true, nil
}

// claimIdempotencyKey records key for the experiment and reports whether it
// was new; an empty key is always new.
func claimIdempotencyKey(ctx context.Context, tx *sql.Tx, pk int64, key string) (bool, error) {
	if key == "" {
		return true, nil
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO idempotency(experiment, key, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		pk, key, nanos(now()))
	if err != nil {
		return false, fmt.Errorf("insert idempotency key: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// touchExperiment moves updated_at, and latest_step when latest >= 0.
func touchExperiment(ctx context.Context, tx *sql.Tx, pk, latest int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE experiments SET updated_at = ?,
		latest_step = CASE WHEN ? < 0 THEN latest_step WHEN latest_step IS NULL OR latest_step < ? THEN ? ELSE latest_step END
		WHERE pk = ?`, nanos(now()), latest, latest, latest, pk)
	if err != nil {
		return fmt.Errorf("touch experiment: %w", err)
	}
	return nil
}

// seriesIDs returns the series id of every scalar of batch, creating
// missing series; the ones created are added to created for the cache.
// known holds series created by this transaction, not yet in the cache.
func (db *DB) seriesIDs(ctx context.Context, tx *sql.Tx, pk int64, batch []expt.Scalar, created, known map[seriesKey]int64) ([]int64, error) {
	ids := make([]int64, len(batch))
	local := map[seriesKey]int64{}
	var missing []int
	db.cache.mu.Lock()
	for i, s := range batch {
		k := seriesKey{pk, s.Mode, s.Name}
		if id, ok := local[k]; ok {
			ids[i] = id
		} else if id, ok := db.cache.series[k]; ok {
			ids[i], local[k] = id, id
		} else if id, ok := known[k]; ok {
			ids[i], local[k] = id, id
		} else {
			missing = append(missing, i)
		}
	}
	db.cache.mu.Unlock()
	for _, i := range missing {
		k := seriesKey{pk, batch[i].Mode, batch[i].Name}
		if id, ok := local[k]; ok {
			ids[i] = id
			continue
		}
		var id int64
		// DO UPDATE (a no-op) rather than DO NOTHING so RETURNING yields the existing row too.
		if err := tx.QueryRowContext(ctx, `INSERT INTO series(experiment, mode, name) VALUES (?, ?, ?)
			ON CONFLICT(experiment, mode, name) DO UPDATE SET name = excluded.name RETURNING id`, pk, k.mode, k.name).Scan(&id); err != nil {
			return nil, fmt.Errorf("upsert series: %w", err)
		}
		ids[i], local[k], created[k] = id, id, id
	}
	return ids, nil
}

func (db *DB) insertPoints(ctx context.Context, tx *sql.Tx, batch []expt.Scalar, ids []int64) error {
	// Inserting in key order keeps each statement on few B-tree pages; the
	// sort is stable so a step repeated in the batch still ends with its last value.
	order := make([]int, len(batch))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if c := cmp.Compare(ids[a], ids[b]); c != 0 {
			return c
		}
		return cmp.Compare(batch[a].Step, batch[b].Step)
	})
	var full *sql.Stmt
	if len(batch) >= pointsPerInsert {
		// Bound to this transaction, the statement stays prepared on the
		// single write connection: no re-parse of 400 parameters per batch.
		full = tx.StmtContext(ctx, db.insertPoints100)
		defer full.Close()
	}
	args := make([]any, 0, 4*pointsPerInsert)
	for start := 0; start < len(batch); start += pointsPerInsert {
		end := min(start+pointsPerInsert, len(batch))
		args = args[:0]
		for _, i := range order[start:end] {
			s := batch[i]
			args = append(args, ids[i], s.Step, nullable(s.Value), s.TS)
		}
		var err error
		if end-start == pointsPerInsert {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insertPointsHead+valuesList(end-start, 4)+insertPointsTail, args...)
		}
		if err != nil {
			return fmt.Errorf("insert points: %w", err)
		}
	}
	return nil
}

// markDirty flags every rollup bucket the batch touched, once per bucket.
func markDirty(ctx context.Context, tx *sql.Tx, batch []expt.Scalar, ids []int64) error {
	type key struct{ sid, bucket int64 }
	seen := map[key]bool{}
	var args []any
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO rollups(series_id, bucket) VALUES `+valuesList(len(args)/2, 2)+
			` ON CONFLICT(series_id, bucket) DO UPDATE SET dirty = 1`, args...)
		args = args[:0]
		if err != nil {
			return fmt.Errorf("mark rollups dirty: %w", err)
		}
		return nil
	}
	for i, s := range batch {
		k := key{ids[i], s.Step >> rollupShift}
		if seen[k] {
			continue
		}
		seen[k] = true
		args = append(args, k.sid, k.bucket)
		if len(args) >= 2*pointsPerInsert {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}
