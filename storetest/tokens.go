package storetest

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/expt-logger/expt"
)

// testTokens: per-token text and values come back from Rollout as logged
// (values as float32, NaN kept), never in lists, are checked against the
// messages, and go with their experiment.
func testTokens(t *testing.T, open func(t *testing.T) expt.Store) {
	f := newFixture(t, open)
	n := 3000
	text := make([]string, n)
	lp, ent := make([]float64, n), make([]float64, n)
	for i := range text {
		text[i] = []string{" the", " answer", " is", " 4", "2", "<b>", " é😀"}[i%7]
		lp[i], ent[i] = -float64(i%13)/4, float64(i%5)/8
	}
	lp[7] = math.NaN()
	with := rollout(1, "train", "p", strings.Join(text, ""))
	with.Tokens = []expt.MessageTokens{{Message: 1, Text: text, Values: []expt.TokenValues{{Name: "logprob", Values: lp}, {Name: "entropy", Values: ent}}}}
	without := rollout(1, "train", "p", "no tokens")
	_, err := f.s.WriteRollouts(f.ctx, f.expID, []*expt.Rollout{with, without}, "")
	must(t, "WriteRollouts", err)

	got, err := f.s.Rollout(f.ctx, f.expID, with.ID)
	must(t, "Rollout", err)
	if len(got.Tokens) != 1 || got.Tokens[0].Message != 1 || !reflect.DeepEqual(got.Tokens[0].Text, text) || len(got.Tokens[0].Values) != 2 {
		t.Fatalf("tokens = %d entries", len(got.Tokens))
	}
	for k, want := range [][]float64{lp, ent} {
		v := got.Tokens[0].Values[k]
		if v.Name != []string{"logprob", "entropy"}[k] {
			t.Fatalf("values[%d] is %q", k, v.Name)
		}
		for i, x := range v.Values {
			if w := float64(float32(want[i])); !(x == w || math.IsNaN(x) && math.IsNaN(w)) {
				t.Fatalf("%s[%d] = %v, want %v", v.Name, i, x, w)
			}
		}
	}
	if o, err := f.s.Rollout(f.ctx, f.expID, without.ID); err != nil || o.Tokens != nil {
		t.Fatalf("a rollout without tokens = %+v, %v", o.Tokens, err)
	}
	list, _, err := f.s.Rollouts(f.ctx, expt.RolloutQuery{ExperimentID: f.expID})
	must(t, "Rollouts", err)
	for _, r := range list {
		want := map[int64]int64{with.ID: int64(n)}[r.ID]
		if r.Tokens != nil || r.TokenCount != want {
			t.Fatalf("listed rollout %d: tokens %v, count %d (want %d)", r.ID, r.Tokens != nil, r.TokenCount, want)
		}
	}
	if got.TokenCount != int64(n) {
		t.Fatalf("Rollout's token count = %d", got.TokenCount)
	}

	// Checked against the rollout: a message that is not there, counts that differ.
	for _, bad := range []struct {
		tokens []expt.MessageTokens
		want   string
	}{
		{[]expt.MessageTokens{{Message: 2, Text: []string{"a"}}}, "tokens[0].message"},
		{[]expt.MessageTokens{{Message: 1, Text: []string{"a"}}, {Message: 1}}, "twice"},
		{[]expt.MessageTokens{{Message: 1, Text: []string{"a", "b"}, Values: []expt.TokenValues{{Name: "logprob", Values: []float64{1}}}}}, "1 values for 2 tokens"},
		{[]expt.MessageTokens{{Message: 1, Text: []string{"a"}, Values: []expt.TokenValues{{Name: "", Values: []float64{1}}}}}, "name"},
	} {
		r := rollout(2, "train", "p", "x")
		r.Tokens = bad.tokens
		_, err := f.s.WriteRollouts(f.ctx, f.expID, []*expt.Rollout{r}, "")
		wantCode(t, "WriteRollouts(bad tokens)", err, expt.EINVALID)
		if !strings.Contains(err.Error(), bad.want) {
			t.Errorf("error %q does not say %q", err, bad.want)
		}
	}

	n2, err := f.s.DeleteExperiments(f.ctx, f.personal(f.user.ID), []string{f.expID})
	if err != nil || n2 != 1 {
		t.Fatalf("DeleteExperiments = %d, %v", n2, err)
	}
	if _, err := f.s.Rollout(f.ctx, f.expID, with.ID); err == nil {
		t.Fatal("a deleted experiment's rollout is still there")
	}
}
