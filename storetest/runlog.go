package storetest

import (
	"testing"

	"github.com/expt-logger/expt"
)

// testRunLogs covers what the published client logs besides scalars and
// rollouts: its own rollout ids, reported errors and environment logs.
func testRunLogs(t *testing.T, open func(t *testing.T) expt.Store) {
	t.Run("ClientRolloutID", func(t *testing.T) {
		f := newFixture(t, open)
		with := rollout(1, "train", "p", "a")
		with.ClientID = "sample-7"
		without := rollout(1, "train", "p", "b")
		_, err := f.s.WriteRollouts(f.ctx, f.expID, []*expt.Rollout{with, without}, "")
		must(t, "WriteRollouts", err)
		got, err := f.s.Rollout(f.ctx, f.expID, with.ID)
		must(t, "Rollout", err)
		if got.ClientID != "sample-7" {
			t.Errorf("ClientID = %q, want sample-7", got.ClientID)
		}
		got, err = f.s.Rollout(f.ctx, f.expID, without.ID)
		must(t, "Rollout", err)
		if got.ClientID != "" {
			t.Errorf("ClientID of a rollout logged without one = %q", got.ClientID)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		f := newFixture(t, open)
		step := int64(9)
		batch := []expt.RunError{
			{Step: &step, Mode: "train", Message: "reward model timed out", Type: "TimeoutError", Traceback: "Traceback ...\n  line 3"},
			{Mode: "eval", Message: "no step", Type: "Error"},
		}
		applied, err := f.s.WriteErrors(f.ctx, f.expID, batch, "err-1")
		must(t, "WriteErrors", err)
		if !applied {
			t.Fatal("first write not applied")
		}
		applied, err = f.s.WriteErrors(f.ctx, f.expID, batch, "err-1")
		must(t, "WriteErrors replay", err)
		if applied {
			t.Error("replayed key applied again")
		}
		page, more, err := f.s.Errors(f.ctx, f.expID, 0, 10)
		must(t, "Errors", err)
		if len(page) != 2 || more {
			t.Fatalf("Errors = %d (more %v), want 2 once", len(page), more)
		}
		e := page[0]
		if e.Step == nil || *e.Step != 9 || e.Mode != "train" || e.Message != batch[0].Message || e.Type != "TimeoutError" || e.Traceback != batch[0].Traceback {
			t.Errorf("first error = %+v", e)
		}
		if page[1].Step != nil || page[1].Message != "no step" {
			t.Errorf("second error = %+v", page[1])
		}
		page, more, err = f.s.Errors(f.ctx, f.expID, 1, 1)
		must(t, "Errors page 2", err)
		if len(page) != 1 || more || page[0].Message != "no step" {
			t.Errorf("offset 1 limit 1 = %+v more %v", page, more)
		}
		// An error's step is not a logged step.
		e2, err := f.s.Experiment(f.ctx, f.expID)
		must(t, "Experiment", err)
		if e2.LatestStep != nil {
			t.Errorf("latestStep = %d after only errors, want none", *e2.LatestStep)
		}
		_, err = f.s.WriteErrors(f.ctx, expt.NewUUID(), batch, "")
		wantCode(t, "WriteErrors to a missing experiment", err, expt.ENOTFOUND)
		_, _, err = f.s.Errors(f.ctx, expt.NewUUID(), 0, 10)
		wantCode(t, "Errors of a missing experiment", err, expt.ENOTFOUND)
	})

	t.Run("EnvLogs", func(t *testing.T) {
		f := newFixture(t, open)
		batch := []expt.EnvLog{
			{RolloutID: "r-1", Content: "first"},
			{RolloutID: "r-2", Content: "other"},
			{RolloutID: "r-1", Content: "second\nwith a newline"},
		}
		applied, err := f.s.WriteEnvLogs(f.ctx, f.expID, batch, "logs-1")
		must(t, "WriteEnvLogs", err)
		if !applied {
			t.Fatal("first write not applied")
		}
		applied, err = f.s.WriteEnvLogs(f.ctx, f.expID, batch, "logs-1")
		must(t, "WriteEnvLogs replay", err)
		if applied {
			t.Error("replayed key applied again")
		}
		logs, err := f.s.EnvLogs(f.ctx, f.expID, "r-1")
		must(t, "EnvLogs", err)
		if len(logs) != 2 || logs[0].Content != "first" || logs[1].Content != "second\nwith a newline" || logs[0].RolloutID != "r-1" {
			t.Errorf("EnvLogs(r-1) = %+v", logs)
		}
		if logs, err := f.s.EnvLogs(f.ctx, f.expID, "nope"); err != nil || len(logs) != 0 {
			t.Errorf("EnvLogs(nope) = %+v, %v; want empty", logs, err)
		}
		_, err = f.s.WriteEnvLogs(f.ctx, f.expID, []expt.EnvLog{{RolloutID: "", Content: "x"}}, "")
		wantCode(t, "an env log without a rollout id", err, expt.EINVALID)
	})

	t.Run("DeletedWithExperiment", func(t *testing.T) {
		f := newFixture(t, open)
		_, err := f.s.WriteErrors(f.ctx, f.expID, []expt.RunError{{Message: "m"}}, "")
		must(t, "WriteErrors", err)
		_, err = f.s.WriteEnvLogs(f.ctx, f.expID, []expt.EnvLog{{RolloutID: "r", Content: "c"}}, "")
		must(t, "WriteEnvLogs", err)
		n, err := f.s.DeleteExperiments(f.ctx, f.personal(f.user.ID), []string{f.expID})
		must(t, "DeleteExperiments", err)
		if n != 1 {
			t.Fatalf("deleted %d", n)
		}
		// Recreating the same id must start empty: nothing of the old run leaks back.
		e := &expt.Experiment{ID: f.expID, UserID: f.user.ID, Name: "again"}
		_, err = f.s.CreateExperiment(f.ctx, e)
		must(t, "CreateExperiment again", err)
		page, _, err := f.s.Errors(f.ctx, f.expID, 0, 10)
		must(t, "Errors", err)
		logs, err := f.s.EnvLogs(f.ctx, f.expID, "r")
		must(t, "EnvLogs", err)
		if len(page) != 0 || len(logs) != 0 {
			t.Errorf("after delete and recreate: %d errors, %d env logs", len(page), len(logs))
		}
	})
}
