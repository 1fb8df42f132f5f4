package storetest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/expt-logger/expt"
)

// testExplicitGroups: rollouts logged with a group id form a group of their
// own (step, mode, prompt text, group id), apart from the same prompt's
// rollouts of another id or of none, in the stored group tables and in a
// search's groups alike, across batches (the prompt caches) and raw forms;
// the id comes back on every rollout read and filters lists; a prompt
// filter alone still finds the prompt under every id (the prompt timeline).
func testExplicitGroups(t *testing.T, open func(t *testing.T) expt.Store) {
	f := newFixture(t, open)
	const p, other = "Solve $x^2 = 4$ for x > 0.", "Other prompt"
	mk := func(step int64, prompt, group string, v float64) *expt.Rollout {
		r := rollout(step, "train", prompt, fmt.Sprintf("<think>try %v</think> \\boxed{2}", v), expt.Reward{Name: "correct", Value: v})
		r.Group = group
		return r
	}
	first := []*expt.Rollout{mk(1, p, "a", 1), mk(1, p, "b", 0), mk(1, p, "", 1), mk(1, p, "a", 1), mk(1, other, "a", 0.5)}
	second := []*expt.Rollout{mk(1, p, "a", 0), mk(1, p, "b", 0), mk(1, p, "", 0.5), mk(1, p, "a", 1), mk(2, p, "a", 1)}
	// The same text logged as a message object is still the group's.
	second[1].PromptRaw = json.RawMessage(`{"role":"user","content":` + quote(p) + `}`)
	for _, batch := range [][]*expt.Rollout{first, second} {
		_, err := f.s.WriteRollouts(f.ctx, f.expID, batch, "")
		must(t, "WriteRollouts", err)
	}
	type want struct {
		prompt, group string
		count         int64
		mean          float64
	}
	step1 := []want{{other, "a", 1, 0.5}, {p, "", 2, 0.75}, {p, "a", 4, 0.75}, {p, "b", 2, 0}}
	check := func(what string, got []*expt.RolloutGroup, want []want) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d groups, want %d", what, len(got), len(want))
		}
		for i, w := range want {
			g := got[i]
			if g.Prompt != w.prompt || g.Group != w.group || g.Count != w.count || len(g.Rewards) != 1 || g.Rewards[0].Mean != w.mean {
				t.Fatalf("%s: group %d = %q/%q count %d rewards %+v, want %+v", what, i, g.Prompt, g.Group, g.Count, g.Rewards, w)
			}
		}
	}
	one := int64(1)
	groups, _, err := f.s.RolloutGroups(f.ctx, expt.GroupQuery{ExperimentID: f.expID, Step: &one})
	must(t, "RolloutGroups", err)
	check("stored groups", groups, step1)
	groups, _, err = f.s.RolloutGroups(f.ctx, expt.GroupQuery{ExperimentID: f.expID, Step: &one, Search: "boxed"})
	must(t, "RolloutGroups(search)", err)
	check("searched groups", groups, step1)

	count := func(q expt.RolloutQuery, wantGroup *string) int {
		t.Helper()
		q.ExperimentID, q.Limit = f.expID, 100
		list, _, err := f.s.Rollouts(f.ctx, q)
		must(t, "Rollouts", err)
		for _, r := range list {
			if wantGroup != nil && r.Group != *wantGroup {
				t.Fatalf("Rollouts(%+v): rollout %d has group %q, want %q", q, r.ID, r.Group, *wantGroup)
			}
		}
		return len(list)
	}
	a, none, b := "a", "", "b"
	for _, c := range []struct {
		q     expt.RolloutQuery
		group *string
		n     int
	}{
		{expt.RolloutQuery{Step: &one, Prompt: ptr(p), Group: &a}, &a, 4},
		{expt.RolloutQuery{Step: &one, Prompt: ptr(p), Group: &none}, &none, 2},
		{expt.RolloutQuery{Step: &one, Prompt: ptr(p), Group: &b, Sort: expt.SortReward + "correct"}, &b, 2},
		{expt.RolloutQuery{Prompt: ptr(p), Group: &a}, &a, 5},
		{expt.RolloutQuery{Prompt: ptr(p)}, nil, 9},
		{expt.RolloutQuery{Group: &a}, &a, 6},
		{expt.RolloutQuery{Group: &a, Search: "boxed"}, &a, 6},
		{expt.RolloutQuery{Prompt: ptr(p), Group: ptr("zzz")}, nil, 0},
	} {
		if n := count(c.q, c.group); n != c.n {
			t.Fatalf("Rollouts(prompt %v, group %v, search %q): %d rollouts, want %d", c.q.Prompt != nil, c.q.Group, c.q.Search, n, c.n)
		}
	}
	r, err := f.s.Rollout(f.ctx, f.expID, first[0].ID)
	must(t, "Rollout", err)
	if r.Group != "a" {
		t.Fatalf("Rollout: group %q, want a", r.Group)
	}

	long := mk(3, p, strings.Repeat("g", expt.MaxNameBytes+1), 1)
	_, err = f.s.WriteRollouts(f.ctx, f.expID, []*expt.Rollout{mk(3, p, "fine", 1), long}, "")
	wantCode(t, "WriteRollouts(long group)", err, expt.EINVALID)
	if !strings.Contains(err.Error(), "rollouts[1].group") {
		t.Fatalf("error %q does not name rollouts[1].group", err)
	}
	three := int64(3)
	if n := count(expt.RolloutQuery{Step: &three}, nil); n != 0 {
		t.Fatalf("a refused batch wrote %d rollouts", n)
	}
}
