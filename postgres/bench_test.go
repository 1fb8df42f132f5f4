package postgres_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/postgres"
	"github.com/expt-logger/expt/postgres/pgtest"
	"github.com/expt-logger/expt/storetest"
)

// The benchmarks share storetest's shapes with sqlite/bench_test.go, so the
// two stores' figures compare directly.

func benchExperiment(b *testing.B) (*postgres.DB, string) {
	b.Helper()
	db, err := postgres.Open(context.Background(), pgtest.URL(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	_, e := storetest.NewExperiment(b, db, "bench@bench", "00000000-0000-4000-8000-000000000001", "bench")
	return db, e.ID
}

func BenchmarkWriteScalars(b *testing.B) {
	db, id := benchExperiment(b)
	storetest.BenchWriteScalars(b, db, id)
}

// BenchmarkPointInsert compares the two bulk forms the issue names, on the
// points table alone with 1,000-row batches: one INSERT ... SELECT FROM
// unnest(arrays) (what WriteScalars does), and COPY into a temporary
// staging table followed by INSERT ... SELECT ... ON CONFLICT.
func BenchmarkPointInsert(b *testing.B) {
	rows := func(i int) (sids, steps []int64, vals, tss []float64) {
		for j := range 1000 {
			sids, steps = append(sids, int64(j%50)), append(steps, int64(i*20+j/50))
			vals, tss = append(vals, float64(j)), append(tss, float64(i))
		}
		return
	}
	b.Run("unnest", func(b *testing.B) {
		db, _ := benchExperiment(b)
		ctx := context.Background()
		for i := 0; b.Loop(); i++ {
			sids, steps, vals, tss := rows(i)
			if _, err := db.Pool().Exec(ctx, `INSERT INTO points(series_id, step, value, ts)
				SELECT s, st, NULLIF(v, 'NaN'), t FROM unnest($1::bigint[], $2::bigint[], $3::float8[], $4::float8[]) AS x(s, st, v, t)
				ON CONFLICT (series_id, step) DO UPDATE SET value = excluded.value, ts = excluded.ts`, sids, steps, vals, tss); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "points/s")
	})
	b.Run("copy", func(b *testing.B) {
		db, _ := benchExperiment(b)
		ctx := context.Background()
		for i := 0; b.Loop(); i++ {
			sids, steps, vals, tss := rows(i)
			tx, err := db.Pool().Begin(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS staging (series_id bigint, step bigint, value float8, ts float8) ON COMMIT DELETE ROWS`); err != nil {
				b.Fatal(err)
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"staging"}, []string{"series_id", "step", "value", "ts"},
				pgx.CopyFromSlice(len(sids), func(k int) ([]any, error) { return []any{sids[k], steps[k], vals[k], tss[k]}, nil })); err != nil {
				b.Fatal(err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO points(series_id, step, value, ts) SELECT series_id, step, NULLIF(value, 'NaN'), ts FROM staging
				ON CONFLICT (series_id, step) DO UPDATE SET value = excluded.value, ts = excluded.ts`); err != nil {
				b.Fatal(err)
			}
			if err := tx.Commit(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "points/s")
	})
}

func BenchmarkWriteRollouts(b *testing.B) {
	db, id := benchExperiment(b)
	storetest.BenchWriteRollouts(b, db, id)
}

// BenchmarkSeries1M reads one series of 1M points as 1,000 buckets.
func BenchmarkSeries1M(b *testing.B) {
	db, id := benchExperiment(b)
	ctx := context.Background()
	const n = 1_000_000
	for start := 0; start < n; start += 10_000 {
		batch := make([]expt.Scalar, 10_000)
		for j := range batch {
			batch[j] = expt.Scalar{Step: int64(start + j), Mode: "train", Name: "loss", Value: float64(j % 977)}
		}
		if _, err := db.WriteScalars(ctx, id, batch, ""); err != nil {
			b.Fatal(err)
		}
	}
	q := expt.SeriesQuery{ExperimentID: id, Mode: "train", Name: "loss", MaxPoints: 1000}
	if _, err := db.Series(ctx, q); err != nil { // the first read folds the dirty rollups
		b.Fatal(err)
	}
	for b.Loop() {
		s, err := db.Series(ctx, q)
		if err != nil || s.Total != n {
			b.Fatal(err, fmt.Sprint(s.Total))
		}
	}
}
