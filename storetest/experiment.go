package storetest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/expt-logger/expt"
)

func testExperiments(t *testing.T, open func(t *testing.T) expt.Store) {
	t.Run("Labels", func(t *testing.T) {
		// Tags (trimmed, without empties and repeats, in order), notes and
		// group round-trip, filter the list, and are changed by updates.
		f := newFixture(t, open)
		e := &expt.Experiment{ID: expt.NewUUID(), UserID: f.user.ID, Name: "grpo", Tags: []string{" math ", "baseline", "", "math", "β=0.04"},
			Notes: "lr sweep, run 3 of 5\nsee the eval drop at 400", Group: "job-17"}
		_, err := f.s.CreateExperiment(f.ctx, e)
		must(t, "CreateExperiment", err)
		got, err := f.s.Experiment(f.ctx, e.ID)
		must(t, "Experiment", err)
		if strings.Join(got.Tags, "|") != "math|baseline|β=0.04" || got.Notes != e.Notes || got.Group != "job-17" {
			t.Fatalf("labels read back as %q %q %q", got.Tags, got.Notes, got.Group)
		}
		if plain, _ := f.s.Experiment(f.ctx, f.expID); plain.Tags == nil || len(plain.Tags) != 0 {
			t.Errorf("an experiment without tags: %#v, want an empty list", plain.Tags)
		}
		for tag, want := range map[string]int{"math": 1, "β=0.04": 1, "mat": 0, "nope": 0} {
			list, total, err := f.s.Experiments(f.ctx, expt.ExperimentFilter{Projects: f.personal(f.user.ID), Tag: tag})
			must(t, "Experiments", err)
			if total != want || len(list) != want {
				t.Errorf("tag %q: %d experiments, want %d", tag, total, want)
			}
		}
		tags, notes := []string{"final"}, ""
		upd, err := f.s.UpdateExperiment(f.ctx, e.ID, expt.ExperimentUpdate{Tags: &tags, Notes: &notes})
		must(t, "UpdateExperiment", err)
		got, _ = f.s.Experiment(f.ctx, e.ID)
		if strings.Join(upd.Tags, "|") != "final" || strings.Join(got.Tags, "|") != "final" || got.Notes != "" || got.Group != "job-17" {
			t.Fatalf("after update: %q %q %q", got.Tags, got.Notes, got.Group)
		}
		bad := make([]string, expt.MaxTags+1)
		for i := range bad {
			bad[i] = fmt.Sprint(i)
		}
		if _, err := f.s.CreateExperiment(f.ctx, &expt.Experiment{ID: expt.NewUUID(), UserID: f.user.ID, Tags: bad}); expt.ErrorCode(err) != expt.EINVALID {
			t.Errorf("%d tags: %v, want invalid", len(bad), err)
		}
	})

	t.Run("CreateIsIdempotent", func(t *testing.T) {
		f := newFixture(t, open)
		e, err := f.s.Experiment(f.ctx, f.expID)
		must(t, "Experiment", err)
		if e.Status != expt.StatusActive || string(e.Config) != "{}" || e.LatestStep != nil || e.Name != "run-1" {
			t.Fatalf("defaults not applied: %+v", e)
		}
		again := &expt.Experiment{ID: f.expID, UserID: f.user.ID, Name: "renamed?"}
		created, err := f.s.CreateExperiment(f.ctx, again)
		must(t, "CreateExperiment again", err)
		if created || again.Name != "run-1" || !again.CreatedAt.Equal(e.CreatedAt) {
			t.Fatalf("second create = %v, %+v; want the stored experiment", created, again)
		}
		// Another user's create with the id loads the stored run, in its
		// own project: the HTTP layer decides whether they may resume it.
		other := f.newUser("thief@example.com")
		theirs := &expt.Experiment{ID: f.expID, UserID: other.ID, Name: "x"}
		created, err = f.s.CreateExperiment(f.ctx, theirs)
		must(t, "CreateExperiment(other user's id)", err)
		if created || theirs.UserID != f.user.ID || theirs.ProjectID != f.personal(f.user.ID)[0] || theirs.Name != "run-1" {
			t.Fatalf("other user's create = %v, %+v", created, theirs)
		}
		_, err = f.s.Experiment(f.ctx, expt.NewUUID())
		wantCode(t, "Experiment(missing)", err, expt.ENOTFOUND)
	})

	t.Run("Update", func(t *testing.T) {
		f := newFixture(t, open)
		before, _ := f.s.Experiment(f.ctx, f.expID)
		time.Sleep(2 * time.Millisecond)
		cfg := json.RawMessage(`{"lr":0.001,"layers":[1,2]}`)
		e, err := f.s.UpdateExperiment(f.ctx, f.expID, expt.ExperimentUpdate{Config: cfg, Status: ptr(expt.StatusComplete)})
		must(t, "UpdateExperiment", err)
		if e.Name != "run-1" || e.Status != expt.StatusComplete || !e.UpdatedAt.After(before.UpdatedAt) {
			t.Fatalf("UpdateExperiment = %+v", e)
		}
		got, _ := f.s.Experiment(f.ctx, f.expID)
		if string(got.Config) != string(cfg) || got.Status != expt.StatusComplete {
			t.Fatalf("stored after update = %+v", got)
		}
		got, err = f.s.UpdateExperiment(f.ctx, f.expID, expt.ExperimentUpdate{Name: ptr("better")})
		must(t, "UpdateExperiment name", err)
		if got.Name != "better" || string(got.Config) != string(cfg) {
			t.Fatalf("name update changed other fields: %+v", got)
		}
		_, err = f.s.UpdateExperiment(f.ctx, expt.NewUUID(), expt.ExperimentUpdate{Name: ptr("x")})
		wantCode(t, "UpdateExperiment(missing)", err, expt.ENOTFOUND)
	})

	t.Run("ListFilterSortPage", func(t *testing.T) {
		f := newFixture(t, open)
		// run-1 exists; add four more with distinct created times.
		names := []string{"Alpha-run", "beta", "ALPHA-two", "gamma_50%"}
		for i, n := range names {
			e := &expt.Experiment{ID: expt.NewUUID(), UserID: f.user.ID, Name: n, CreatedAt: time.Date(2026, 1, 1+i, 0, 0, 0, 0, time.UTC)}
			if i == 1 {
				e.Status = expt.StatusComplete
			}
			if _, err := f.s.CreateExperiment(f.ctx, e); err != nil {
				t.Fatal(err)
			}
			if i == 2 {
				_, err := f.s.WriteScalars(f.ctx, e.ID, []expt.Scalar{{Step: 7, Mode: "train", Name: "loss", Value: 1}}, "")
				must(t, "WriteScalars", err)
			}
		}
		other := f.newUser("x@example.com")
		f.newExperiment(other.ID, "alpha-of-other")

		list, total, err := f.s.Experiments(f.ctx, expt.ExperimentFilter{Projects: f.personal(f.user.ID), Query: "alpha"})
		must(t, "Experiments(query)", err)
		if total != 2 || len(list) != 2 || list[0].Name != "Alpha-run" || list[1].Name != "ALPHA-two" {
			t.Fatalf("query alpha = %d %v", total, expNames(list))
		}
		list, total, _ = f.s.Experiments(f.ctx, expt.ExperimentFilter{Projects: f.personal(f.user.ID), Query: "50%"})
		if total != 1 || list[0].Name != "gamma_50%" {
			t.Fatalf("query with %% must be literal: %d %v", total, expNames(list))
		}
		list, total, _ = f.s.Experiments(f.ctx, expt.ExperimentFilter{Projects: f.personal(f.user.ID), Status: expt.StatusComplete})
		if total != 1 || list[0].Name != "beta" {
			t.Fatalf("status filter = %d %v", total, expNames(list))
		}
		list, total, _ = f.s.Experiments(f.ctx, expt.ExperimentFilter{Projects: f.personal(f.user.ID), Sort: expt.SortName})
		if total != 5 || fmtList(expNames(list)) != "Alpha-run,ALPHA-two,beta,gamma_50%,run-1" {
			t.Fatalf("sort by name = %v", expNames(list))
		}
		list, _, _ = f.s.Experiments(f.ctx, expt.ExperimentFilter{Projects: f.personal(f.user.ID), Sort: expt.SortCreated, Desc: true, Offset: 1, Limit: 2})
		// created: Alpha-run(1 Jan) < beta < ALPHA-two < gamma < run-1 (now)
		if fmtList(expNames(list)) != "gamma_50%,ALPHA-two" {
			t.Fatalf("created desc offset 1 limit 2 = %v", expNames(list))
		}
		list, _, _ = f.s.Experiments(f.ctx, expt.ExperimentFilter{Projects: f.personal(f.user.ID), Sort: expt.SortLatestStep, Desc: true, Limit: 1})
		if len(list) != 1 || list[0].Name != "ALPHA-two" || list[0].LatestStep == nil || *list[0].LatestStep != 7 {
			t.Fatalf("latestStep desc = %+v", list)
		}
		list, _, _ = f.s.Experiments(f.ctx, expt.ExperimentFilter{Projects: f.personal(f.user.ID), Sort: expt.SortUpdated, Desc: true, Limit: 1})
		if list[0].Name != "ALPHA-two" {
			t.Fatalf("updated desc first = %v, want the one that received scalars", expNames(list))
		}
		_, _, err = f.s.Experiments(f.ctx, expt.ExperimentFilter{Projects: f.personal(f.user.ID), Sort: "bogus"})
		wantCode(t, "Experiments(bad sort)", err, expt.EINVALID)
	})
}

func expNames(list []*expt.Experiment) []string {
	out := make([]string, len(list))
	for i, e := range list {
		out[i] = e.Name
	}
	return out
}

func fmtList(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += ","
		}
		out += v
	}
	return out
}
