package storetest

import (
	"testing"

	"github.com/expt-logger/expt"
)

func testIsolation(t *testing.T, open func(t *testing.T) expt.Store) {
	t.Run("DeleteCascades", func(t *testing.T) {
		f := newFixture(t, open)
		keep := f.newExperiment(f.user.ID, "keep")
		for _, id := range []string{f.expID, keep.ID} {
			_, err := f.s.WriteScalars(f.ctx, id, []expt.Scalar{{Step: 1, Mode: "train", Name: "loss", Value: 1}}, "k1")
			must(t, "WriteScalars", err)
			_, err = f.s.WriteRollouts(f.ctx, id, []*expt.Rollout{rollout(1, "train", "shared prompt", "unique answer", expt.Reward{Name: "r", Value: 1})}, "k2")
			must(t, "WriteRollouts", err)
		}
		n, err := f.s.DeleteExperiments(f.ctx, f.personal(f.user.ID), []string{f.expID, expt.NewUUID()})
		must(t, "DeleteExperiments", err)
		if n != 1 {
			t.Fatalf("DeleteExperiments = %d, want 1", n)
		}
		_, err = f.s.Experiment(f.ctx, f.expID)
		wantCode(t, "Experiment(deleted)", err, expt.ENOTFOUND)
		_, err = f.s.WriteScalars(f.ctx, f.expID, []expt.Scalar{{Step: 1, Mode: "train", Name: "loss"}}, "")
		wantCode(t, "WriteScalars(deleted)", err, expt.ENOTFOUND)
		_, err = f.s.Metrics(f.ctx, f.expID)
		wantCode(t, "Metrics(deleted)", err, expt.ENOTFOUND)
		_, _, err = f.s.Rollouts(f.ctx, expt.RolloutQuery{ExperimentID: f.expID})
		wantCode(t, "Rollouts(deleted)", err, expt.ENOTFOUND)

		// The same id can be created again and starts empty: no points,
		// rollouts, search hits or idempotency keys survive.
		e := &expt.Experiment{ID: f.expID, UserID: f.user.ID, Name: "reborn"}
		created, err := f.s.CreateExperiment(f.ctx, e)
		if err != nil || !created {
			t.Fatalf("recreate = %v, %v", created, err)
		}
		ms, _ := f.s.Metrics(f.ctx, f.expID)
		page, _, _ := f.s.Rollouts(f.ctx, expt.RolloutQuery{ExperimentID: f.expID, Search: "unique"})
		steps, _ := f.s.RolloutSteps(f.ctx, f.expID)
		sr, _ := f.s.StepRewards(f.ctx, f.expID, "")
		if len(ms) != 0 || len(page) != 0 || len(steps) != 0 || len(sr) != 0 || e.LatestStep != nil {
			t.Fatalf("data survived delete: metrics %v rollouts %d steps %v stepRewards %v", ms, len(page), steps, sr)
		}
		applied, err := f.s.WriteScalars(f.ctx, f.expID, []expt.Scalar{{Step: 1, Mode: "train", Name: "loss", Value: 2}}, "k1")
		if err != nil || !applied {
			t.Fatalf("idempotency key survived delete: applied=%v err=%v", applied, err)
		}
		// The other experiment is untouched.
		ms, _ = f.s.Metrics(f.ctx, keep.ID)
		page, _, _ = f.s.Rollouts(f.ctx, expt.RolloutQuery{ExperimentID: keep.ID, Search: "unique"})
		if len(ms) != 1 || len(page) != 1 || len(page[0].Rewards) != 1 {
			t.Fatalf("delete touched another experiment: metrics %v rollouts %v", ms, page)
		}
	})

	t.Run("ByProject", func(t *testing.T) {
		f := newFixture(t, open)
		bob := f.newUser("bob@example.com")
		bobs := f.newExperiment(bob.ID, "bob-run")
		list, total, err := f.s.Experiments(f.ctx, expt.ExperimentFilter{Projects: f.personal(f.user.ID)})
		must(t, "Experiments", err)
		if total != 1 || list[0].ID != f.expID {
			t.Fatalf("owner sees %v", expNames(list))
		}
		n, err := f.s.DeleteExperiments(f.ctx, f.personal(f.user.ID), []string{bobs.ID})
		if err != nil || n != 0 {
			t.Fatalf("deleted bob's experiment: %d, %v", n, err)
		}
		if _, err := f.s.Experiment(f.ctx, bobs.ID); err != nil {
			t.Fatalf("bob lost his experiment: %v", err)
		}
		keys, err := f.s.APIKeys(f.ctx, bob.ID)
		must(t, "APIKeys", err)
		if len(keys) != 0 {
			t.Fatalf("bob has keys %v", keys)
		}
	})
}
