package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/internal/storekit"
)

// Points go in with one INSERT ... SELECT FROM unnest(arrays) per batch:
// one statement and one round trip whatever the batch size. Measured
// against COPY into a temporary table then INSERT ... ON CONFLICT (see
// BenchmarkScalarInsert): unnest is faster at the SDK's batch sizes,
// because COPY needs the temporary table created per transaction.
const (
	insertPointsSQL = `INSERT INTO points(series_id, step, value, ts)
		SELECT s, st, NULLIF(v, 'NaN'), t FROM unnest($1::bigint[], $2::bigint[], $3::float8[], $4::float8[]) AS x(s, st, v, t)
		ON CONFLICT (series_id, step) DO UPDATE SET value = excluded.value, ts = excluded.ts`
	markDirtySQL = `INSERT INTO rollups AS r (series_id, bucket) SELECT * FROM unnest($1::bigint[], $2::bigint[])
		ON CONFLICT (series_id, bucket) DO UPDATE SET dirty = r.dirty + 1`
)

// seriesKey names a series of the batch's experiment.
type seriesKey = storekit.SeriesName

type scalarRow struct {
	series int64
	step   int64
	value  float64
	ts     float64
}

// WriteScalars stores a batch all or nothing, last write winning per
// (series, step), in one transaction that also claims idemKey.
func (db *DB) WriteScalars(ctx context.Context, experimentID string, batch []expt.Scalar, idemKey string) (bool, error) {
	if err := expt.CheckScalars(batch); err != nil {
		return false, err
	}
	latest := int64(-1)
	for _, s := range batch {
		latest = max(latest, s.Step)
	}
	var created storekit.Pending[seriesKey]
	var exp int64
	applied, err := db.appendBatch(ctx, experimentID, idemKey, func(tx pgx.Tx, pk int64) error {
		created, exp = storekit.Pending[seriesKey]{}, pk
		ids, err := db.seriesIDs(ctx, tx, pk, batch, created)
		if err != nil {
			return err
		}
		rows := make([]scalarRow, len(batch))
		for i, s := range batch {
			rows[i] = scalarRow{ids[seriesKey{Mode: s.Mode, Name: s.Name}], s.Step, s.Value, s.TS}
		}
		// Key order, so that concurrent batches lock rows in one order and
		// cannot deadlock; stable, so that a step repeated in the batch keeps
		// its last value (ON CONFLICT may not touch a row twice per statement).
		slices.SortStableFunc(rows, func(a, b scalarRow) int {
			return cmp.Or(cmp.Compare(a.series, b.series), cmp.Compare(a.step, b.step))
		})
		n := 0
		for i, r := range rows {
			if i+1 < len(rows) && rows[i+1].series == r.series && rows[i+1].step == r.step {
				continue
			}
			rows[n] = r
			n++
		}
		rows = rows[:n]
		sids, steps, vals, tss := make([]int64, n), make([]int64, n), make([]float64, n), make([]float64, n)
		var bs, bb []int64
		for i, r := range rows {
			sids[i], steps[i], vals[i], tss[i] = r.series, r.step, r.value, r.ts
			if b := r.step >> rollupShift; len(bs) == 0 || bs[len(bs)-1] != r.series || bb[len(bb)-1] != b {
				bs, bb = append(bs, r.series), append(bb, b)
			}
		}
		b := &pgx.Batch{}
		b.Queue(insertPointsSQL, sids, steps, vals, tss)
		b.Queue(markDirtySQL, bs, bb)
		b.Queue(touchSQL, now(), latest, pk)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("insert points: %w", err)
		}
		return nil
	})
	if err == nil {
		db.cache.series.Put(exp, created)
	}
	return applied, err
}

// seriesIDs returns the id of every series the batch names, creating the
// missing ones (recorded in created, for the cache after commit).
func (db *DB) seriesIDs(ctx context.Context, tx pgx.Tx, pk int64, batch []expt.Scalar, created storekit.Pending[seriesKey]) (map[seriesKey]int64, error) {
	ids := map[seriesKey]int64{}
	var missing []seriesKey
	for _, s := range batch {
		k := seriesKey{Mode: s.Mode, Name: s.Name}
		if _, ok := ids[k]; ok {
			continue
		}
		if id, ok := db.cache.series.Get(pk, k); ok {
			ids[k] = id
		} else {
			ids[k] = 0
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return ids, nil
	}
	slices.SortFunc(missing, func(a, b seriesKey) int { return cmp.Or(cmp.Compare(a.Mode, b.Mode), cmp.Compare(a.Name, b.Name)) })
	modes, names := make([]string, len(missing)), make([]string, len(missing))
	for i, k := range missing {
		modes[i], names[i] = k.Mode, k.Name
	}
	// DO NOTHING takes no lock on an existing row (DO UPDATE would, and
	// serialise every batch of a series); a row another transaction is
	// inserting is waited for, then found by the SELECT, a new statement
	// with a new snapshot.
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO series(experiment, mode, name) SELECT $1, m, n FROM unnest($2::text[], $3::text[]) AS x(m, n)
		ON CONFLICT (experiment, mode, name) DO NOTHING`, pk, modes, names)
	b.Queue(`SELECT s.id, s.mode, s.name FROM series s JOIN unnest($2::text[], $3::text[]) AS x(m, n) ON s.mode = x.m AND s.name = x.n
		WHERE s.experiment = $1`, pk, modes, names)
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, fmt.Errorf("insert series: %w", err)
	}
	rows, err := br.Query()
	if err != nil {
		return nil, fmt.Errorf("select series: %w", err)
	}
	for rows.Next() {
		var id int64
		var k seriesKey
		if err := rows.Scan(&id, &k.Mode, &k.Name); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan series: %w", err)
		}
		ids[k], created[k] = id, id
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select series: %w", err)
	}
	for _, k := range missing {
		if ids[k] == 0 {
			return nil, fmt.Errorf("series %s/%s was not created", k.Mode, k.Name)
		}
	}
	return ids, br.Close()
}
