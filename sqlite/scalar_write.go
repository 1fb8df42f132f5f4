package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"
	"sync"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/internal/storekit"
)

// pointsPerInsert is how many rows one INSERT statement carries: measured
// fastest around 100 (fewer statements, still a small SQL text).
const pointsPerInsert = 100

const insertPointsHead = `INSERT OR REPLACE INTO points(series_id, step, value, ts) VALUES `

func valuesList(n, cols int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + ")"
	return strings.TrimSuffix(strings.Repeat(row+",", n), ",")
}

// insertPointsSQL[n] inserts n rows; only n = pointsPerInsert and powers
// of two below it are used, so that the writer keeps few statements prepared.
var insertPointsSQL = func() map[int]string {
	m := map[int]string{pointsPerInsert: insertPointsHead + valuesList(pointsPerInsert, 4)}
	for n := 1; n < pointsPerInsert; n *= 2 {
		m[n] = insertPointsHead + valuesList(n, 4)
	}
	return m
}()

// markDirtySQL[n] flags n rollup buckets, n a power of two.
var markDirtySQL = func() map[int]string {
	m := map[int]string{}
	for n := 1; n <= 64; n *= 2 {
		m[n] = `INSERT INTO rollups(series_id, bucket) VALUES ` + valuesList(n, 2) +
			` ON CONFLICT(series_id, bucket) DO UPDATE SET dirty = 1`
	}
	return m
}()

// chunks splits n rows into statements of full rows, then powers of two.
func chunks(n, full int, fn func(start, size int) error) error {
	start := 0
	for ; n-start >= full; start += full {
		if err := fn(start, full); err != nil {
			return err
		}
	}
	for rest := n - start; rest > 0; {
		size := 1 << (bits.Len(uint(rest)) - 1)
		if err := fn(start, size); err != nil {
			return err
		}
		start, rest = start+size, rest-size
	}
	return nil
}

const (
	touchSQL = `UPDATE experiments SET updated_at = ?,
		latest_step = CASE WHEN ? < 0 THEN latest_step WHEN latest_step IS NULL OR latest_step < ? THEN ? ELSE latest_step END
		WHERE pk = ?`
	upsertSeriesSQL = `INSERT INTO series(experiment, mode, name) VALUES (?, ?, ?)
		ON CONFLICT(experiment, mode, name) DO UPDATE SET name = excluded.name RETURNING id`
	experimentPKSQL = `SELECT pk FROM experiments WHERE id = ?`
)

// WriteScalars stores a batch all or nothing, last write winning per
// (series, step). The batch is turned into statement arguments here, in
// the caller's goroutine, then stored by the group writer, which may share
// the transaction with other batches (see group_commit.go); WriteScalars
// returns once that transaction committed.
func (db *DB) WriteScalars(ctx context.Context, experimentID string, batch []expt.Scalar, idemKey string) (bool, error) {
	if err := expt.CheckScalars(batch); err != nil {
		return false, err
	}
	return db.scalars.write(&scalarWrite{ctx: ctx, experiment: experimentID, rows: newScalarRows(batch), idemKey: idemKey,
		done: make(chan scalarResult, 1)})
}

// scalarRows is a batch as INSERT arguments: rows grouped by series in
// order of first appearance and sorted by step within a series (stably, so
// that a step repeated in the batch ends with its last value). Inserting in
// key order keeps each statement on few B-tree pages.
type scalarRows struct {
	series  []seriesName
	runs    []seriesRun         // consecutive rows of one series
	args    []driver.NamedValue // 4 a row: series id (set by the writer), step, value, ts
	buckets []seriesBucket      // distinct rollup buckets touched
	latest  int64               // highest step; -1 for an empty batch
	n       int                 // rows
}

type seriesName = storekit.SeriesName

type seriesRun struct {
	series int // index into series
	n      int
}

type seriesBucket struct {
	series int
	bucket int64
}

var argsPool sync.Pool // *[]driver.NamedValue

func newScalarRows(batch []expt.Scalar) *scalarRows {
	r := &scalarRows{latest: -1, n: len(batch)}
	// Counting sort by series, stable: most batches hold a few series.
	index := map[seriesName]int{}
	of := make([]int, len(batch))
	var counts []int
	for i, s := range batch {
		k := seriesName{Mode: s.Mode, Name: s.Name}
		j, ok := index[k]
		if !ok {
			j = len(r.series)
			index[k] = j
			r.series = append(r.series, k)
			counts = append(counts, 0)
		}
		of[i] = j
		counts[j]++
		r.latest = max(r.latest, s.Step)
	}
	starts := make([]int, len(counts))
	for j := 1; j < len(counts); j++ {
		starts[j] = starts[j-1] + counts[j-1]
	}
	order := make([]int, len(batch))
	next := slices.Clone(starts)
	for i, j := range of {
		order[next[j]] = i
		next[j]++
	}
	for j, n := range counts {
		run := order[starts[j] : starts[j]+n]
		byStep := func(a, b int) int { return cmp.Compare(batch[a].Step, batch[b].Step) }
		if !slices.IsSortedFunc(run, byStep) {
			slices.SortStableFunc(run, byStep)
		}
		r.runs = append(r.runs, seriesRun{series: j, n: n})
	}

	if p, ok := argsPool.Get().(*[]driver.NamedValue); ok && cap(*p) >= 4*len(batch) {
		r.args = (*p)[:4*len(batch)]
	} else {
		r.args = make([]driver.NamedValue, 4*len(batch))
	}
	var ts driver.Value
	lastTS := math.NaN()
	for row, i := range order {
		s := batch[i]
		a := r.args[4*row : 4*row+4]
		base := 4 * (row % pointsPerInsert)
		// ts is often the same for many points: box it once.
		if s.TS != lastTS {
			ts, lastTS = s.TS, s.TS
		}
		var v driver.Value
		if !math.IsNaN(s.Value) {
			v = s.Value // SQLite would store a bound NaN as NULL anyway
		}
		a[0] = driver.NamedValue{Ordinal: base + 1}
		a[1] = driver.NamedValue{Ordinal: base + 2, Value: s.Step}
		a[2] = driver.NamedValue{Ordinal: base + 3, Value: v}
		a[3] = driver.NamedValue{Ordinal: base + 4, Value: ts}
		if k := (seriesBucket{of[i], s.Step >> rollupShift}); len(r.buckets) == 0 || r.buckets[len(r.buckets)-1] != k {
			r.buckets = append(r.buckets, k)
		}
	}
	return r
}

// release gives the argument slice back for another batch.
func (r *scalarRows) release() {
	if args := r.args; args != nil {
		r.args = nil
		clear(args) // drop the boxed values
		argsPool.Put(&args)
	}
}

// writeScalarBatch writes one batch in the writer's open transaction.
// Series it creates are added to created; known holds series created
// earlier in the same transaction, not yet in the cache.
func (db *DB) writeScalarBatch(c *rawConn, w *scalarWrite, created, known map[seriesKey]int64) (bool, error) {
	pk, err := db.rawExperimentPK(c, w.experiment)
	if err != nil {
		return false, err
	}
	exec := func(q string, args ...any) (int64, error) {
		res, err := c.execValues(q, driverValues(args)...)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	}
	count := func(q string, args ...any) (int64, error) {
		n, _, err := c.queryInt64(q, driverValues(args)...)
		return n, err
	}
	if ok, err := storekit.Claim(exec, count, false, pk, w.idemKey, nanos(now())); err != nil || !ok {
		return false, err
	}
	r := w.rows
	ids, err := db.rawSeriesIDs(c, pk, r.series, created, known)
	if err != nil {
		return false, err
	}
	row := 0
	for _, run := range r.runs {
		for end := row + run.n; row < end; row++ {
			r.args[4*row].Value = ids[run.series]
		}
	}
	err = chunks(r.n, pointsPerInsert, func(start, size int) error {
		args := r.args[4*start : 4*(start+size)]
		if size < pointsPerInsert {
			// A short statement numbers its arguments from 1.
			for j := range args {
				args[j].Ordinal = j + 1
			}
		}
		if _, err := c.exec(insertPointsSQL[size], args); err != nil {
			return fmt.Errorf("insert points: %w", err)
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	dirty := make([]driver.NamedValue, 0, 2*64)
	err = chunks(len(r.buckets), 64, func(start, size int) error {
		dirty = dirty[:0]
		for j, b := range r.buckets[start : start+size] {
			dirty = append(dirty, driver.NamedValue{Ordinal: 2*j + 1, Value: ids[b.series]},
				driver.NamedValue{Ordinal: 2*j + 2, Value: b.bucket})
		}
		if _, err := c.exec(markDirtySQL[size], dirty); err != nil {
			return fmt.Errorf("mark rollups dirty: %w", err)
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	if _, err := c.execValues(touchSQL, nanos(now()), r.latest, r.latest, r.latest, pk); err != nil {
		return false, fmt.Errorf("touch experiment: %w", err)
	}
	return true, nil
}

// rawExperimentPK is experimentPK on the writer's connection.
func (db *DB) rawExperimentPK(c *rawConn, id string) (int64, error) {
	if pk, ok := db.cache.experiment(id); ok {
		return pk, nil
	}
	pk, ok, err := c.queryInt64(experimentPKSQL, id)
	if err != nil {
		return 0, fmt.Errorf("select experiment: %w", err)
	} else if !ok {
		return 0, expt.Errorf(expt.ENOTFOUND, "experiment %q not found", id)
	}
	db.cache.putExperiment(id, pk)
	return pk, nil
}

// rawSeriesIDs returns the id of every series of names, boxed for the
// INSERT arguments, creating the missing ones.
func (db *DB) rawSeriesIDs(c *rawConn, pk int64, names []seriesName, created, known map[seriesKey]int64) ([]driver.Value, error) {
	ids := make([]driver.Value, len(names))
	var missing []int
	for i, n := range names {
		if id, ok := db.cache.series.Get(pk, n); ok {
			ids[i] = id
		} else if id, ok := known[seriesKey{pk, n}]; ok {
			ids[i] = id
		} else {
			missing = append(missing, i)
		}
	}
	for _, i := range missing {
		// DO UPDATE (a no-op) rather than DO NOTHING so RETURNING yields the existing row too.
		id, _, err := c.queryInt64(upsertSeriesSQL, pk, names[i].Mode, names[i].Name)
		if err != nil {
			return nil, fmt.Errorf("upsert series: %w", err)
		}
		ids[i] = id
		created[seriesKey{pk, names[i]}] = id
	}
	return ids, nil
}

func driverValues(args []any) []driver.Value {
	out := make([]driver.Value, len(args))
	for i, a := range args {
		out[i] = a
	}
	return out
}

// claimIdempotencyKey records key for the experiment in tx and reports
// whether the write applies (storekit.Claim).
func claimIdempotencyKey(ctx context.Context, tx *sql.Tx, pk int64, key string) (bool, error) {
	c := conn{tx}
	return storekit.Claim(func(q string, args ...any) (int64, error) { return c.Exec(ctx, q, args...) },
		func(q string, args ...any) (n int64, err error) {
			err = c.QueryRow(ctx, q, args...).Scan(&n)
			return n, err
		},
		false, pk, key, nanos(now()))
}

// touchExperiment moves updated_at, and latest_step when latest >= 0.
func touchExperiment(ctx context.Context, tx *sql.Tx, pk, latest int64) error {
	if _, err := tx.ExecContext(ctx, touchSQL, nanos(now()), latest, latest, latest, pk); err != nil {
		return fmt.Errorf("touch experiment: %w", err)
	}
	return nil
}
