package sqlite_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/expt-logger/expt"
)

// TestSketchesOfOlderSteps: every written step keeps a sketch; a step
// stored before sketches (its sketch NULL) reads the same from its
// rollouts, and the next batch at that step rebuilds a sketch of all of it.
func TestSketchesOfOlderSteps(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	u := &expt.User{Email: "sketch@test"}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	e := &expt.Experiment{ID: expt.NewUUID(), UserID: u.ID, Name: "e"}
	if _, err := db.CreateExperiment(ctx, e); err != nil {
		t.Fatal(err)
	}
	write := func(step int64, vs ...float64) {
		t.Helper()
		var batch []*expt.Rollout
		for _, v := range vs {
			batch = append(batch, &expt.Rollout{Step: step, Mode: "train", Prompt: "p",
				Messages: []expt.Message{{Role: "assistant", Content: "abc", Raw: json.RawMessage(`{"role":"assistant","content":"abc"}`)}},
				Rewards:  []expt.Reward{{Name: "r", Value: v}}})
		}
		if _, err := db.WriteRollouts(ctx, e.ID, batch, ""); err != nil {
			t.Fatal(err)
		}
	}
	count := func(q string) int {
		t.Helper()
		var n int
		if err := db.RawDB().QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	write(0, 0, 1, 1)
	write(1, 0.5, 0.25)
	if n := count(`SELECT count(*) FROM step_rewards WHERE sketch IS NULL`) + count(`SELECT count(*) FROM step_counts WHERE lengths IS NULL`); n != 0 {
		t.Fatalf("%d step rows without a sketch", n)
	}
	q := expt.DistributionQuery{ExperimentID: e.ID, Mode: "train", Name: "r", Bins: 4, MaxSteps: 10}
	want, err := db.RewardDistribution(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	wantLen, err := db.LengthDistribution(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.RawWriteDB().ExecContext(ctx, `UPDATE step_rewards SET sketch = NULL`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RawWriteDB().ExecContext(ctx, `UPDATE step_counts SET lengths = NULL`); err != nil {
		t.Fatal(err)
	}
	got, err := db.RewardDistribution(ctx, q)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("from rollouts = %+v, %v; want %+v", got, err, want)
	}
	gotLen, err := db.LengthDistribution(ctx, q)
	if err != nil || !reflect.DeepEqual(gotLen, wantLen) {
		t.Fatalf("lengths from rollouts = %+v, %v; want %+v", gotLen, err, wantLen)
	}
	write(0, 0.75)
	if n := count(`SELECT count(*) FROM step_rewards WHERE sketch IS NULL AND step = 0`) + count(`SELECT count(*) FROM step_counts WHERE lengths IS NULL AND step = 0`); n != 0 {
		t.Fatal("step 0 still has no sketch after a write")
	}
	if _, err := db.RawWriteDB().ExecContext(ctx, `UPDATE step_rewards SET sketch = NULL WHERE step = 1`); err != nil {
		t.Fatal(err)
	}
	got, err = db.RewardDistribution(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if s0 := got.Steps[0]; s0.Count != 4 || s0.Mean != 0.6875 || s0.Counts[3] != 3 {
		t.Fatalf("step 0 after a write = %+v", s0)
	}
	if l, _ := db.LengthDistribution(ctx, q); l.Steps[0].Count != 4 || l.Steps[0].P50 != 3 {
		t.Fatalf("step 0 lengths after a write = %+v", l.Steps[0])
	}
}
