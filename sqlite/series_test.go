package sqlite_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/sqlite"
	"github.com/expt-logger/expt/storetest"
)

// openSeries opens a store at path holding one experiment with a dense
// series "m" of n points.
func openSeries(t *testing.T, path string, n int) (*sqlite.DB, string) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	_, e := storetest.NewExperiment(t, db, "s@b", "00000000-0000-4000-8000-000000000004", "s")
	batch := make([]expt.Scalar, n)
	for i := range batch {
		batch[i] = expt.Scalar{Step: int64(i), Mode: "train", Name: "m", Value: math.Sin(float64(i) / 100), TS: float64(i)}
	}
	if _, err := db.WriteScalars(ctx, e.ID, batch, ""); err != nil {
		t.Fatal(err)
	}
	return db, e.ID
}

// TestSeriesChartBuckets: a chart asking for about its pixel width of
// buckets gets at least a quarter of them, whichever level Series folds.
func TestSeriesChartBuckets(t *testing.T) {
	ctx := context.Background()
	const n = 60000
	db, id := openSeries(t, filepath.Join(t.TempDir(), "expt.db"), n)
	defer db.Close()
	for _, mp := range []int{200, 300, 500, 1000, 1500, 2000} {
		for _, r := range [][2]int64{{0, n}, {17, n - 5}, {1000, 9000}, {4000, 4000 + int64(mp)*5}, {50, 50 + int64(mp)*20}} {
			s, err := db.Series(ctx, expt.SeriesQuery{ExperimentID: id, Mode: "train", Name: "m", MaxPoints: mp, FromStep: &r[0], ToStep: &r[1]})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(s.Buckets); s.Downsampled && (got > mp || got < mp/4) {
				t.Errorf("max=%d range %v: %d buckets, want %d..%d", mp, r, got, mp/4, mp)
			}
		}
	}
}

// TestMigrationBackfillsSubBuckets opens a database whose rollups predate
// sub-buckets (migration 5 undone): the migration must mark them for
// recomputation, and reads must be right before and after that.
func TestMigrationBackfillsSubBuckets(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "expt.db")
	const n = 20000
	db, id := openSeries(t, path, n)
	q := expt.SeriesQuery{ExperimentID: id, Mode: "train", Name: "m", MaxPoints: 700}
	want, err := db.Series(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{`ALTER TABLE rollups DROP COLUMN fine`, `DELETE FROM schema_migrations WHERE version = 5`} {
		if _, err := db.RawWriteDB().ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var dirty, rollups int
	if err := db.RawDB().QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE dirty = 1 AND fine IS NULL), count(*) FROM rollups`).Scan(&dirty, &rollups); err != nil {
		t.Fatal(err)
	}
	if dirty != rollups || rollups < n/1024 {
		t.Fatalf("%d of %d rollups marked for backfill", dirty, rollups)
	}
	got, err := db.Series(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Buckets) != len(want.Buckets) || got.Total != want.Total {
		t.Fatalf("after migration: %d buckets of %d points, want %d of %d", len(got.Buckets), got.Total, len(want.Buckets), want.Total)
	}
	for i := range want.Buckets {
		if got.Buckets[i] != want.Buckets[i] {
			t.Fatalf("bucket %d = %+v, want %+v", i, got.Buckets[i], want.Buckets[i])
		}
	}
	if err := db.RawDB().QueryRowContext(ctx, `SELECT count(*) FROM rollups WHERE dirty = 0 AND fine IS NOT NULL`).Scan(&dirty); err != nil || dirty != rollups {
		t.Fatalf("%d of %d rollups backfilled (%v)", dirty, rollups, err)
	}
}
