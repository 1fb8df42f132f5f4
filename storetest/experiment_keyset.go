package storetest

import (
	"testing"
	"time"

	"github.com/expt-logger/expt"
)

// testExperimentKeyset: paging experiments by key (After the last of a
// page) gives exactly the order and the experiments of one big page, for
// every sort in both directions, with ties in the sort field (same names
// in other cases, same steps, no step) broken by id; a filter still holds;
// After with Offset is refused.
func testExperimentKeyset(t *testing.T, open func(t *testing.T) expt.Store) {
	f := newFixture(t, open)
	projects := f.personal(f.user.ID)
	names := []string{"grpo", "GRPO", "alpha", "Zeta", "grpo", "beta", "é-run", "alpha"}
	base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i := range 23 {
		e := &expt.Experiment{ID: expt.NewUUID(), UserID: f.user.ID, Name: names[i%len(names)], CreatedAt: base.Add(time.Duration(i%7) * time.Second)}
		if _, err := f.s.CreateExperiment(f.ctx, e); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			done := expt.StatusComplete
			_, err := f.s.UpdateExperiment(f.ctx, e.ID, expt.ExperimentUpdate{Status: &done})
			must(t, "UpdateExperiment", err)
		}
		if i%3 != 0 {
			_, err := f.s.WriteScalars(f.ctx, e.ID, []expt.Scalar{{Step: int64(i % 4), Mode: "train", Name: "loss", Value: 1}}, "")
			must(t, "WriteScalars", err)
		}
	}
	ids := func(list []*expt.Experiment) string {
		s := ""
		for _, e := range list {
			s += e.ID[len(e.ID)-6:] + " "
		}
		return s
	}
	for _, sort := range []string{expt.SortCreated, expt.SortUpdated, expt.SortName, expt.SortLatestStep} {
		for _, desc := range []bool{false, true} {
			for _, status := range []string{"", expt.StatusActive} {
				q := expt.ExperimentFilter{Projects: projects, Sort: sort, Desc: desc, Status: status, WithoutConfig: true}
				all := q
				all.Limit = 1000
				want, total, err := f.s.Experiments(f.ctx, all)
				must(t, "Experiments", err)
				var got []*expt.Experiment
				q.Limit = 4
				for pages := 0; ; pages++ {
					page, n, err := f.s.Experiments(f.ctx, q)
					must(t, "Experiments(after)", err)
					if n != total {
						t.Fatalf("sort %s: total %d with a cursor, %d without", sort, n, total)
					}
					got = append(got, page...)
					if len(page) < q.Limit || pages > 100 {
						break
					}
					q.After = page[len(page)-1]
				}
				if ids(got) != ids(want) {
					t.Fatalf("sort %s desc %v status %q, by key:\n%s\nin one page:\n%s", sort, desc, status, ids(got), ids(want))
				}
			}
		}
	}
	_, _, err := f.s.Experiments(f.ctx, expt.ExperimentFilter{Projects: projects, Offset: 2, After: &expt.Experiment{ID: f.expID}})
	wantCode(t, "Experiments(after and offset)", err, expt.EINVALID)

}
