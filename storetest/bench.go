package storetest

import (
	"context"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/expt-logger/expt"
)

// The stores' benchmarks share these shapes (1,000 points of 50 metrics per
// batch; 1,000 rollouts of about 1 KB and 3 rewards per batch), so the
// figures of every store compare directly:
//   go test -run '^$' -bench . ./sqlite/ ./postgres/

// NewExperiment creates a user with this email and an experiment of its
// with this id and name, failing tb on any error: for the stores' own
// tests and benchmarks.
func NewExperiment(tb testing.TB, s expt.MetaStore, email, id, name string) (*expt.User, *expt.Experiment) {
	tb.Helper()
	ctx := context.Background()
	u := &expt.User{Email: email}
	if err := s.CreateUser(ctx, u); err != nil {
		tb.Fatal(err)
	}
	e := &expt.Experiment{ID: id, UserID: u.ID, Name: name}
	if _, err := s.CreateExperiment(ctx, e); err != nil {
		tb.Fatal(err)
	}
	return u, e
}

// CloseAtEnd closes s when tb ends, reporting a failed close.
func CloseAtEnd(tb testing.TB, s interface{ Close() error }) {
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
}

// Open returns the store open makes, closed when the test ends; a failure
// to open fails the test.
func Open[S interface{ Close() error }](tb testing.TB, open func() (S, error)) S {
	tb.Helper()
	s, err := open()
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	CloseAtEnd(tb, s)
	return s
}

// ScalarBatch is 50 metrics x 20 steps starting at step: an RL logger's shape.
func ScalarBatch(step int64) []expt.Scalar {
	batch := make([]expt.Scalar, 0, 1000)
	for s := step; s < step+20; s++ {
		for m := 0; m < 50; m++ {
			batch = append(batch, expt.Scalar{Step: s, Mode: "train", Name: "metric/" + strconv.Itoa(m), Value: float64(s) * 0.001, TS: float64(s)})
		}
	}
	return batch
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

// Text returns about n bytes of words, Zipf-distributed like real text.
func Text(zipf *rand.Zipf, n int) string {
	var sb strings.Builder
	for sb.Len() < n {
		sb.WriteString(vocab[zipf.Uint64()])
		sb.WriteByte(' ')
	}
	return sb.String()
}

// NewZipf draws word ranks for Text.
func NewZipf(rng *rand.Rand) *rand.Zipf { return rand.NewZipf(rng, 1.1, 1, uint64(len(vocab)-1)) }

// RolloutBatch is n rollouts of about 1 KB of text and 3 rewards.
func RolloutBatch(rng *rand.Rand, step int64, n int) []*expt.Rollout {
	zipf := NewZipf(rng)
	out := make([]*expt.Rollout, n)
	for i := range out {
		prompt := "question " + strconv.Itoa(rng.IntN(64)) + " " + Text(zipf, 100)
		answer := Text(zipf, 900)
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

// BenchWriteScalars writes ScalarBatch batches into experiment id.
func BenchWriteScalars(b *testing.B, s expt.DataStore, id string) {
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		if _, err := s.WriteScalars(ctx, id, ScalarBatch(int64(i)*20), ""); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "points/s")
}

// BenchWriteRollouts writes RolloutBatch batches of 1,000 into experiment id.
func BenchWriteRollouts(b *testing.B, s expt.DataStore, id string) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 1))
	batches := make([][]*expt.Rollout, 4)
	for i := range batches {
		batches[i] = RolloutBatch(rng, int64(i), 1000)
	}
	for i := 0; b.Loop(); i++ {
		if _, err := s.WriteRollouts(ctx, id, batches[i%len(batches)], ""); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "rollouts/s")
}

// Word is the i-th word of Text's vocabulary (0 the most common).
func Word(i int) string { return vocab[i] }
