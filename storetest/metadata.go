package storetest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/expt-logger/expt"
)

// testMetadata: a rollout's metadata object comes back byte for byte (key
// order, spacing, unicode) from Rollout, lists, searches and sorted lists;
// a rollout without any has none; what is not one bounded object is refused
// and writes nothing.
func testMetadata(t *testing.T, open func(t *testing.T) expt.Store) {
	f := newFixture(t, open)
	meta := `{"sample": 3, "group":"q-17",  "model_version": "step-40", "stop_reason":"length", "tokens": {"prompt": 212, "completion": 4096}, "note": "é😀 <b>", "z": null, "a": [1, 2.5]}`
	with := rollout(1, "train", "What is 6 x 7?", "42")
	with.Metadata = json.RawMessage(meta)
	without := rollout(1, "train", "What is 6 x 7?", "41")
	withRewards := func(r *expt.Rollout, v float64) *expt.Rollout {
		r.Rewards = []expt.Reward{{Name: "correct", Value: v}}
		return r
	}
	_, err := f.s.WriteRollouts(f.ctx, f.expID, []*expt.Rollout{withRewards(with, 1), withRewards(without, 0)}, "")
	must(t, "WriteRollouts", err)

	want := map[int64]string{with.ID: meta, without.ID: ""}
	check := func(what string, list []*expt.Rollout) {
		t.Helper()
		if len(list) != 2 {
			t.Fatalf("%s: %d rollouts", what, len(list))
		}
		for _, r := range list {
			if string(r.Metadata) != want[r.ID] || (want[r.ID] == "") != (r.Metadata == nil) {
				t.Fatalf("%s: rollout %d metadata = %q, want %q", what, r.ID, r.Metadata, want[r.ID])
			}
		}
	}
	one, err := f.s.Rollout(f.ctx, f.expID, with.ID)
	must(t, "Rollout", err)
	two, err := f.s.Rollout(f.ctx, f.expID, without.ID)
	must(t, "Rollout", err)
	check("Rollout", []*expt.Rollout{one, two})
	list, _, err := f.s.Rollouts(f.ctx, expt.RolloutQuery{ExperimentID: f.expID})
	must(t, "Rollouts", err)
	check("Rollouts", list)
	list, _, err = f.s.Rollouts(f.ctx, expt.RolloutQuery{ExperimentID: f.expID, Search: "What"})
	must(t, "Rollouts(search)", err)
	check("Rollouts(search)", list)
	list, _, err = f.s.Rollouts(f.ctx, expt.RolloutQuery{ExperimentID: f.expID, Sort: expt.SortReward + "correct"})
	must(t, "Rollouts(sort by reward)", err)
	check("Rollouts(sort by reward)", list)
	// Metadata is not text to search.
	list, _, err = f.s.Rollouts(f.ctx, expt.RolloutQuery{ExperimentID: f.expID, Search: "length"})
	must(t, "Rollouts(search in metadata)", err)
	if len(list) != 0 {
		t.Fatalf("a search for a metadata value found %d rollouts", len(list))
	}

	for _, bad := range []struct{ meta, msg string }{
		{`[1, 2]`, "must be an object"},
		{`"x"`, "must be an object"},
		{`{"a": }`, "not valid JSON"},
		{`{"a": "` + strings.Repeat("x", expt.MaxMetadataBytes) + `"}`, "longer than"},
	} {
		r := rollout(2, "train", "p", "a")
		r.Metadata = json.RawMessage(bad.meta)
		_, err := f.s.WriteRollouts(f.ctx, f.expID, []*expt.Rollout{rollout(2, "train", "p", "fine"), r}, "")
		wantCode(t, "WriteRollouts(metadata "+bad.msg+")", err, expt.EINVALID)
		if !strings.Contains(err.Error(), "rollouts[1].metadata: "+bad.msg) {
			t.Fatalf("error %q does not name rollouts[1].metadata (%s)", err, bad.msg)
		}
	}
	list, _, err = f.s.Rollouts(f.ctx, expt.RolloutQuery{ExperimentID: f.expID})
	must(t, "Rollouts", err)
	if len(list) != 2 {
		t.Fatalf("refused batches wrote rollouts: %d in all", len(list))
	}
}
