package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/postgres"
	"github.com/expt-logger/expt/postgres/pgtest"
)

// The benchmarks mirror sqlite/bench_test.go's shapes (1,000 points of 50
// metrics per batch; 1,000 rollouts of ~1 KB and 3 rewards per batch), so
// the two stores' figures compare directly:
//   go test -run '^$' -bench . ./sqlite/ ./postgres/

func benchExperiment(b *testing.B) (*postgres.DB, string) {
	b.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, pgtest.URL(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	u := &expt.User{Email: "bench@bench"}
	if err := db.CreateUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	e := &expt.Experiment{ID: "00000000-0000-4000-8000-000000000001", UserID: u.ID, Name: "bench"}
	if _, err := db.CreateExperiment(ctx, e); err != nil {
		b.Fatal(err)
	}
	return db, e.ID
}

// scalarBatch is 50 metrics x 20 steps starting at step: an RL logger's shape.
func scalarBatch(step int64) []expt.Scalar {
	batch := make([]expt.Scalar, 0, 1000)
	for s := step; s < step+20; s++ {
		for m := 0; m < 50; m++ {
			batch = append(batch, expt.Scalar{Step: s, Mode: "train", Name: "metric/" + strconv.Itoa(m), Value: float64(s) * 0.001, TS: float64(s)})
		}
	}
	return batch
}

func BenchmarkWriteScalars(b *testing.B) {
	db, id := benchExperiment(b)
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		if _, err := db.WriteScalars(ctx, id, scalarBatch(int64(i)*20), ""); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "points/s")
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

var vocab = func() []string {
	rng := rand.New(rand.NewPCG(7, 7))
	words := make([]string, 5000)
	for i := range words {
		var sb strings.Builder
		for j := 0; j < 3+rng.IntN(6); j++ {
			sb.WriteByte(byte('a' + rng.IntN(26)))
		}
		words[i] = sb.String()
	}
	return words
}()

func text(zipf *rand.Zipf, n int) string {
	var sb strings.Builder
	for sb.Len() < n {
		sb.WriteString(vocab[zipf.Uint64()])
		sb.WriteByte(' ')
	}
	return sb.String()
}

// rolloutBatch is n rollouts of about 1 KB of text and 3 rewards.
func rolloutBatch(rng *rand.Rand, step int64, n int) []*expt.Rollout {
	zipf := rand.NewZipf(rng, 1.1, 1, uint64(len(vocab)-1))
	out := make([]*expt.Rollout, n)
	for i := range out {
		prompt := "question " + strconv.Itoa(rng.IntN(64)) + " " + text(zipf, 100)
		answer := text(zipf, 900)
		out[i] = &expt.Rollout{
			Step: step, Mode: "train", Prompt: prompt, TS: float64(step),
			Messages: []expt.Message{{Role: "user", Content: prompt}, {Role: "assistant", Content: answer}},
			Rewards: []expt.Reward{
				{Name: "correct", Value: float64(rng.IntN(2))},
				{Name: "format", Value: rng.Float64()},
				{Name: "length", Value: float64(len(answer))},
			},
		}
	}
	return out
}

func BenchmarkWriteRollouts(b *testing.B) {
	db, id := benchExperiment(b)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 1))
	batches := make([][]*expt.Rollout, 4)
	for i := range batches {
		batches[i] = rolloutBatch(rng, int64(i), 1000)
	}
	for i := 0; b.Loop(); i++ {
		if _, err := db.WriteRollouts(ctx, id, batches[i%len(batches)], ""); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "rollouts/s")
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
