package storekit

import (
	"math"
	"slices"
	"testing"

	"github.com/expt-logger/expt"
)

func TestWherePlaceholders(t *testing.T) {
	step := int64(3)
	for _, tc := range []struct {
		dollar bool
		want   string
	}{
		{false, "r.experiment = ? AND r.mode = ? AND r.step = ?"},
		{true, "r.experiment = $1 AND r.mode = $2 AND r.step = $3"},
	} {
		w := RolloutWhere(tc.dollar, 7, "train", &step, nil, nil)
		if w.SQL() != tc.want || !slices.Equal(w.Args, []any{int64(7), "train", int64(3)}) {
			t.Errorf("dollar=%v: %q %v, want %q", tc.dollar, w.SQL(), w.Args, tc.want)
		}
		c := w.Clone()
		c.Add("x = " + c.Bind(1))
		if len(w.Args) != 3 || len(c.Args) != 4 {
			t.Errorf("Clone shares arguments: %v / %v", w.Args, c.Args)
		}
	}
}

func TestIDsPendingAndForget(t *testing.T) {
	var c IDs[string]
	p := Pending[string]{"a": 1}
	if id, ok := p.Lookup(&c, 9, "a"); !ok || id != 1 {
		t.Fatalf("pending lookup = %d %v", id, ok)
	}
	if _, ok := c.Get(9, "a"); ok {
		t.Fatal("a pending id reached the cache before Put")
	}
	c.Put(9, p)
	c.PutOne(10, "a", 2)
	if id, _ := c.Get(9, "a"); id != 1 {
		t.Fatalf("Get(9, a) = %d", id)
	}
	c.Forget(map[int64]bool{9: true})
	if _, ok := c.Get(9, "a"); ok {
		t.Fatal("Forget kept experiment 9")
	}
	if id, ok := c.Get(10, "a"); !ok || id != 2 {
		t.Fatal("Forget dropped another experiment")
	}
	loads := 0
	load := func() (int64, bool, error) { loads++; return 5, true, nil }
	for range 2 {
		if id, ok, err := c.Load(11, "b", load); id != 5 || !ok || err != nil {
			t.Fatalf("Load = %d %v %v", id, ok, err)
		}
	}
	if loads != 1 {
		t.Fatalf("Load read the database %d times, want once", loads)
	}
}

func TestBatchStats(t *testing.T) {
	ids := map[string]int64{"a": 1, "b": 2}
	s := NewBatchStats(2)
	rs := []*expt.Rollout{
		{ID: 10, Step: 4, Mode: "train", Rewards: []expt.Reward{{Name: "a", Value: 1}, {Name: "b", Value: math.NaN()}, {Name: "a", Value: 3}}},
		{ID: 11, Step: 6, Mode: "train", Rewards: []expt.Reward{{Name: "a", Value: 5}}},
	}
	for _, r := range rs {
		if err := s.Add(r, 100, func(n string) (int64, error) { return ids[n], nil }); err != nil {
			t.Fatal(err)
		}
	}
	// A name twice in one rollout keeps its last value, in first-seen order.
	if !slices.Equal(s.Rewards.Rollout, []int64{10, 10, 11}) || !slices.Equal(s.Rewards.Name, []int64{1, 2, 1}) ||
		s.Rewards.Value[0] != 3 || !math.IsNaN(s.Rewards.Value[1]) || s.Rewards.Value[2] != 5 {
		t.Fatalf("reward rows = %+v", s.Rewards)
	}
	if s.Latest != 6 || s.Steps[StepKey{"train", 4}] != 1 || s.Groups[GroupKey{"train", 6, 100}] != 1 {
		t.Fatalf("stats = latest %d steps %v groups %v", s.Latest, s.Steps, s.Groups)
	}
	if b := s.StepSums[StepRewardKey{StepKey{"train", 4}, 2}]; b.NaNs != 1 || b.Count != 0 {
		t.Fatalf("NaN reward sums = %+v", b)
	}
}

func TestRewardSortPages(t *testing.T) {
	valued, rest := make([]*expt.Rollout, 5), make([]*expt.Rollout, 4)
	for i := range valued {
		valued[i] = &expt.Rollout{ID: int64(i)}
	}
	for i := range rest {
		rest[i] = &expt.Rollout{ID: int64(100 + i)}
	}
	part := func(all []*expt.Rollout) func(n, offset int) ([]*expt.Rollout, error) {
		return func(n, offset int) ([]*expt.Rollout, error) {
			offset = min(offset, len(all))
			return all[offset:min(offset+n, len(all))], nil
		}
	}
	s := RewardSort{Known: true, Valued: part(valued), Rest: part(rest),
		CountValued: func() (int, error) { return len(valued), nil }}
	var got []int64
	for offset := 0; ; offset += 2 {
		page, more, err := s.Page(2, offset)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			got = append(got, r.ID)
		}
		if !more {
			break
		}
	}
	if want := []int64{0, 1, 2, 3, 4, 100, 101, 102, 103}; !slices.Equal(got, want) {
		t.Fatalf("pages = %v, want %v", got, want)
	}
	s.Known = false
	if page, _, _ := s.Page(2, 0); len(page) != 2 || page[0].ID != 100 {
		t.Fatalf("unknown reward: first page %v, want the rest in id order", page)
	}
}
