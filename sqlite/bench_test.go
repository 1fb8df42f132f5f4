package sqlite_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/sqlite"
	"github.com/expt-logger/expt/storetest"
)

// Large fixtures are built once per benchmark process, in a temp dir
// removed by TestMain, so plain `go test` never pays for them. Their size
// can be lowered for a quick look: EXPT_BENCH_POINTS, EXPT_BENCH_ROLLOUTS.
// EXPT_BENCH_DIR names a directory to keep them in instead, so that the
// rollout fixture (minutes to build at 1M) is built once across runs.

var benchDir = os.Getenv("EXPT_BENCH_DIR")

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" && os.Getenv("EXPT_BENCH_DIR") == "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

func benchPath(b *testing.B, name string) string {
	b.Helper()
	if benchDir != "" {
		if err := os.MkdirAll(benchDir, 0o700); err != nil {
			b.Fatal(err)
		}
	} else {
		d, err := os.MkdirTemp("", "expt-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchDir = d
	}
	return filepath.Join(benchDir, name)
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// benchExperiment opens a fresh database with one user and experiment.
func benchExperiment(b *testing.B, name string) (*sqlite.DB, string) {
	b.Helper()
	db, err := sqlite.Open(context.Background(), benchPath(b, name))
	if err != nil {
		b.Fatal(err)
	}
	_, e := storetest.NewExperiment(b, db, name+"@bench", fmt.Sprintf("00000000-0000-4000-8000-%012d", len(name)), name)
	return db, e.ID
}

func BenchmarkWriteScalars(b *testing.B) {
	db, id := benchExperiment(b, "scalars.db")
	defer db.Close()
	storetest.BenchWriteScalars(b, db, id)
}

func BenchmarkWriteRollouts(b *testing.B) {
	db, id := benchExperiment(b, "rollouts-write.db")
	defer db.Close()
	storetest.BenchWriteRollouts(b, db, id)
}

var (
	seriesOnce sync.Once
	seriesDB   *sqlite.DB
	seriesExp  string
)

func seriesFixture(b *testing.B) int {
	ctx := context.Background()
	n := envInt("EXPT_BENCH_POINTS", 1_000_000)
	seriesOnce.Do(func() {
		start := time.Now()
		seriesDB, seriesExp = benchExperiment(b, "series.db")
		batch := make([]expt.Scalar, 10_000)
		for s := 0; s < n; s += len(batch) {
			for j := range batch {
				st := int64(s + j)
				batch[j] = expt.Scalar{Step: st, Mode: "train", Name: "loss", Value: float64(st%977) * 0.01, TS: float64(st)}
			}
			if _, err := seriesDB.WriteScalars(ctx, seriesExp, batch, ""); err != nil {
				b.Fatal(err)
			}
		}
		// A second, 100,000-point series: a chart's usual size.
		small := min(n, 100_000)
		for s := 0; s < small; s += len(batch) {
			for j := range batch {
				st := int64(s + j)
				batch[j] = expt.Scalar{Step: st, Mode: "train", Name: "loss100k", Value: float64(st%977) * 0.01, TS: float64(st)}
			}
			if _, err := seriesDB.WriteScalars(ctx, seriesExp, batch[:min(len(batch), small-s)], ""); err != nil {
				b.Fatal(err)
			}
		}
		// The first read recomputes every dirty rollup; do it outside the timing.
		for _, name := range []string{"loss", "loss100k"} {
			if _, err := seriesDB.Series(ctx, expt.SeriesQuery{ExperimentID: seriesExp, Mode: "train", Name: name, MaxPoints: 1000}); err != nil {
				b.Fatal(err)
			}
		}
		b.Logf("built %d-point series in %v", n, time.Since(start))
	})
	return n
}

// BenchmarkSeries1M downsamples a 1M-point series to 1,000 buckets.
func BenchmarkSeries1M(b *testing.B) {
	n := seriesFixture(b)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		s, err := seriesDB.Series(ctx, expt.SeriesQuery{ExperimentID: seriesExp, Mode: "train", Name: "loss", MaxPoints: 1000})
		if err != nil || s.Total != int64(n) || len(s.Buckets) > 1000 {
			b.Fatalf("Series: total %d buckets %d err %v", s.Total, len(s.Buckets), err)
		}
	}
}

// BenchmarkSeriesChart reads a series as a chart does, asking for about
// its pixel width of buckets, over the whole series and over an unaligned
// window of half of it.
func BenchmarkSeriesChart(b *testing.B) {
	n := seriesFixture(b)
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		points int
	}{{"100k", min(n, 100_000)}, {"1M", n}} {
		for _, mp := range []int{300, 1000, 2000} {
			for _, window := range []bool{false, true} {
				series := "loss"
				if c.name == "100k" {
					series = "loss100k"
				}
				q := expt.SeriesQuery{ExperimentID: seriesExp, Mode: "train", Name: series, MaxPoints: mp}
				total := int64(c.points)
				if window {
					from, to := int64(c.points)/4+3, int64(c.points)*3/4+5
					q.FromStep, q.ToStep = &from, &to
					total = to - from + 1
				}
				b.Run(fmt.Sprintf("points=%s/max=%d/window=%v", c.name, mp, window), func(b *testing.B) {
					var buckets int
					for b.Loop() {
						s, err := seriesDB.Series(ctx, q)
						if err != nil || s.Total != total || len(s.Buckets) > mp {
							b.Fatalf("Series: total %d (want %d) buckets %d err %v", s.Total, total, len(s.Buckets), err)
						}
						buckets = len(s.Buckets)
					}
					b.ReportMetric(float64(buckets), "buckets")
				})
			}
		}
	}
	// The slowest chart read: a range just under 16 x maxPoints is folded
	// from raw points, as buckets narrower than a quarter sub-bucket must be.
	b.Run("points=30k/max=2000/raw", func(b *testing.B) {
		from, to := int64(0), int64(min(n, 100_000)*3/10-1)
		q := expt.SeriesQuery{ExperimentID: seriesExp, Mode: "train", Name: "loss100k", MaxPoints: 2000, FromStep: &from, ToStep: &to}
		for b.Loop() {
			if _, err := seriesDB.Series(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSeries1MRange asks for an unaligned window, so both edges are
// read from raw points.
func BenchmarkSeries1MRange(b *testing.B) {
	seriesFixture(b)
	ctx := context.Background()
	from, to := int64(123_457), int64(876_543)
	b.ResetTimer()
	for b.Loop() {
		if _, err := seriesDB.Series(ctx, expt.SeriesQuery{ExperimentID: seriesExp, Mode: "train", Name: "loss", MaxPoints: 1000, FromStep: &from, ToStep: &to}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSeriesAfterWrite measures a read right after a write dirtied
// the last rollup bucket, as a live chart does.
func BenchmarkSeriesAfterWrite(b *testing.B) {
	n := seriesFixture(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		st := int64(n - 1 - i%100)
		if _, err := seriesDB.WriteScalars(ctx, seriesExp, []expt.Scalar{{Step: st, Mode: "train", Name: "loss", Value: float64(st%977) * 0.01, TS: float64(st)}}, ""); err != nil {
			b.Fatal(err)
		}
		if _, err := seriesDB.Series(ctx, expt.SeriesQuery{ExperimentID: seriesExp, Mode: "train", Name: "loss", MaxPoints: 1000}); err != nil {
			b.Fatal(err)
		}
	}
}

var (
	rolloutsOnce sync.Once
	rolloutsDB   *sqlite.DB
	rolloutsExp  string
)

func rolloutFixture(b *testing.B) (*sqlite.DB, string) {
	n := envInt("EXPT_BENCH_ROLLOUTS", 1_000_000)
	rolloutsOnce.Do(func() {
		start := time.Now()
		name := fmt.Sprintf("rollouts-%d.db", n)
		done := benchPath(b, name+".done")
		if _, err := os.Stat(done); err == nil {
			db, err := sqlite.Open(context.Background(), benchPath(b, name))
			if err != nil {
				b.Fatal(err)
			}
			rolloutsDB, rolloutsExp = db, fmt.Sprintf("00000000-0000-4000-8000-%012d", len(name))
			return
		}
		rolloutsDB, rolloutsExp = benchExperiment(b, name)
		defer func() {
			if !b.Failed() {
				_ = os.WriteFile(done, nil, 0o600)
			}
		}()
		rng := rand.New(rand.NewPCG(2, 2))
		for i := 0; i < n; i += 1000 {
			if _, err := rolloutsDB.WriteRollouts(context.Background(), rolloutsExp, storetest.RolloutBatch(rng, int64(i/1000), min(1000, n-i)), ""); err != nil {
				b.Fatal(err)
			}
		}
		b.Logf("built %d rollouts in %v", n, time.Since(start))
	})
	return rolloutsDB, rolloutsExp
}

// BenchmarkRolloutsRewardFilter pages 50 rollouts filtered by a reward.
func BenchmarkRolloutsRewardFilter(b *testing.B) {
	db, id := rolloutFixture(b)
	ctx := context.Background()
	q := expt.RolloutQuery{ExperimentID: id, Rewards: []expt.RewardFilter{{Name: "format", Op: ">", Value: 0.9}}, Limit: 50, Offset: 500}
	b.ResetTimer()
	for b.Loop() {
		page, _, err := db.Rollouts(ctx, q)
		if err != nil || len(page) != 50 {
			b.Fatalf("page of %d: %v", len(page), err)
		}
	}
}

// BenchmarkRolloutsSortByReward pages the top 50 rollouts by a reward.
func BenchmarkRolloutsSortByReward(b *testing.B) {
	db, id := rolloutFixture(b)
	ctx := context.Background()
	q := expt.RolloutQuery{ExperimentID: id, Sort: expt.SortReward + "format", Desc: true, Limit: 50}
	b.ResetTimer()
	for b.Loop() {
		if page, _, err := db.Rollouts(ctx, q); err != nil || len(page) != 50 {
			b.Fatalf("page of %d: %v", len(page), err)
		}
	}
}

// BenchmarkRolloutsStepSortByReward sorts one step's rollouts by a reward,
// as the rollout table of a step does, alone and with other filters.
func BenchmarkRolloutsStepSortByReward(b *testing.B) {
	db, id := rolloutFixture(b)
	ctx := context.Background()
	n := envInt("EXPT_BENCH_ROLLOUTS", 1_000_000)
	step := int64(n / 2000)
	from, to := step, step+4
	prompt := ""
	if page, _, err := db.Rollouts(ctx, expt.RolloutQuery{ExperimentID: id, Step: &step, Limit: 1}); err != nil || len(page) != 1 {
		b.Fatalf("first rollout of step %d: %v", step, err)
	} else {
		prompt = page[0].Prompt
	}
	correct := []expt.RewardFilter{{Name: "correct", Op: "=", Value: 1}}
	for _, c := range []struct {
		name string
		q    expt.RolloutQuery
	}{
		{"step", expt.RolloutQuery{Step: &step}},
		{"step+mode", expt.RolloutQuery{Step: &step, Mode: "train"}},
		{"step+filter", expt.RolloutQuery{Step: &step, Rewards: correct}},
		{"step+search", expt.RolloutQuery{Step: &step, Search: storetest.Word(40)}},
		{"step+prompt", expt.RolloutQuery{Step: &step, Prompt: &prompt}},
		{"range5+filter", expt.RolloutQuery{FromStep: &from, ToStep: &to, Rewards: correct}},
		{"prompt", expt.RolloutQuery{Prompt: &prompt}},
		{"step+filter/offset500", expt.RolloutQuery{Step: &step, Rewards: correct, Offset: 400}},
	} {
		for _, desc := range []bool{false, true} {
			q := c.q
			q.ExperimentID, q.Sort, q.Desc, q.Limit = id, expt.SortReward+"format", desc, 50
			b.Run(fmt.Sprintf("%s/desc=%v", c.name, desc), func(b *testing.B) {
				for b.Loop() {
					if _, _, err := db.Rollouts(ctx, q); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkRolloutsSearch runs a two-word full-text query.
func BenchmarkRolloutsSearch(b *testing.B) {
	db, id := rolloutFixture(b)
	ctx := context.Background()
	// Mid-frequency words: common enough to match many rollouts, not all.
	q := expt.RolloutQuery{ExperimentID: id, Search: storetest.Word(40) + " " + storetest.Word(200), Limit: 50}
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := db.Rollouts(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStepRewards reads the per-step summaries of the whole fixture.
func BenchmarkStepRewards(b *testing.B) {
	db, id := rolloutFixture(b)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := db.StepRewards(ctx, id, "train"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteScalars10k writes batches of 10,000 points (50 metrics x
// 200 steps): the per-transaction cost spread over ten times more points.
func BenchmarkWriteScalars10k(b *testing.B) {
	db, id := benchExperiment(b, "scalars10k.db")
	defer db.Close()
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		batch := make([]expt.Scalar, 0, 10_000)
		for j := range 10 {
			batch = append(batch, storetest.ScalarBatch(int64(i*10+j)*20)...)
		}
		if _, err := db.WriteScalars(ctx, id, batch, ""); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*10_000)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkRolloutGroupsStep pages the GRPO groups of one step.
func BenchmarkRolloutGroupsStep(b *testing.B) {
	db, id := rolloutFixture(b)
	ctx := context.Background()
	step := int64(envInt("EXPT_BENCH_ROLLOUTS", 1_000_000) / 2000)
	b.ResetTimer()
	for b.Loop() {
		if page, _, err := db.RolloutGroups(ctx, expt.GroupQuery{ExperimentID: id, Step: &step, Limit: 50}); err != nil || len(page) == 0 {
			b.Fatalf("groups: %d, %v", len(page), err)
		}
	}
}

// benchRuns numbers the databases of benchmarks that run more than once.
var benchRuns atomic.Int64

// BenchmarkWriteScalarsConcurrent has four writers, each on its own
// experiment, posting 1,000 points of one of ten metrics per batch: the
// shape of bench/load's scalar phase without HTTP, so that concurrent
// batches can share a transaction.
func BenchmarkWriteScalarsConcurrent(b *testing.B) {
	const writers, per = 4, 1000
	name := fmt.Sprintf("scalars-concurrent-%d.db", benchRuns.Add(1))
	db, _ := benchExperiment(b, name)
	defer db.Close()
	ctx := context.Background()
	u, err := db.UserByEmail(ctx, name+"@bench")
	if err != nil {
		b.Fatal(err)
	}
	exps := make([]string, writers)
	for w := range exps {
		e := &expt.Experiment{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", 100+w), UserID: u.ID, Name: "w" + strconv.Itoa(w)}
		if _, err := db.CreateExperiment(ctx, e); err != nil {
			b.Fatal(err)
		}
		exps[w] = e.ID
	}
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			batch := make([]expt.Scalar, per)
			for i := 0; next.Add(1) <= int64(b.N); i++ {
				name := "metric_" + strconv.Itoa(i%10)
				from := int64(i/10) * per
				for j := range batch {
					st := from + int64(j)
					batch[j] = expt.Scalar{Step: st, Mode: "train", Name: name, Value: 1 / float64(st+1), TS: 1.7e9}
				}
				if _, err := db.WriteScalars(ctx, exps[w], batch, ""); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N*per)/time.Since(start).Seconds(), "points/s")
}

// BenchmarkRewardDistribution bins one reward of 10,000 steps × 64
// rollouts (EXPT_BENCH_DIST_STEPS steps) into the heatmap the UI draws:
// 308 step buckets × 24 bins with quantiles.
func BenchmarkRewardDistribution(b *testing.B) {
	steps := envInt("EXPT_BENCH_DIST_STEPS", 10_000)
	name := fmt.Sprintf("dist-sketch-%d.db", steps)
	done := benchPath(b, name+".done")
	db, id := benchExperiment(b, name)
	defer db.Close()
	ctx := context.Background()
	if _, err := os.Stat(done); err != nil {
		start := time.Now()
		rng := rand.New(rand.NewPCG(3, 3))
		var batch []*expt.Rollout
		for s := 0; s < steps; s++ {
			for k := 0; k < 64; k++ {
				c := 0.0
				if rng.Float64() < float64(s)/float64(steps) {
					c = 1
				}
				batch = append(batch, &expt.Rollout{Step: int64(s), Mode: "train", Prompt: fmt.Sprintf("prompt %d", k%8),
					Messages: []expt.Message{{Role: "assistant", Content: "a", Raw: json.RawMessage(`{"role":"assistant","content":"a"}`)}},
					Rewards:  []expt.Reward{{Name: "correctness", Value: c}, {Name: "length", Value: rng.NormFloat64()}}})
			}
			if len(batch) >= 6400 || s == steps-1 {
				if _, err := db.WriteRollouts(ctx, id, batch, ""); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
		}
		_ = os.WriteFile(done, nil, 0o600)
		b.Logf("filled %d steps × 64 rollouts in %s", steps, time.Since(start).Round(time.Second))
	}
	// A 0/1 reward, a continuous one (64 distinct values a step) and the
	// response lengths, each read from the stored per-step sketches.
	for _, name := range []string{"correctness", "length", "(response length)"} {
		b.Run(name, func(b *testing.B) {
			q := expt.DistributionQuery{ExperimentID: id, Mode: "train", Name: name, Bins: 24, MaxSteps: 308}
			read := db.RewardDistribution
			if name == "(response length)" {
				read = db.LengthDistribution
			}
			for b.Loop() {
				d, err := read(ctx, q)
				if err != nil || len(d.Steps) == 0 {
					b.Fatalf("distribution: %v", err)
				}
			}
		})
	}
}
