package storetest

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/expt-logger/expt"
)

func msg(raw string) expt.Message {
	var m struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	_ = json.Unmarshal([]byte(raw), &m)
	return expt.Message{Role: m.Role, Content: m.Content, Raw: json.RawMessage(raw)}
}

func rollout(step int64, mode, prompt, answer string, rewards ...expt.Reward) *expt.Rollout {
	return &expt.Rollout{
		Step: step, Mode: mode, Prompt: prompt, TS: float64(step) + 0.5,
		Messages: []expt.Message{
			msg(`{"role":"user","content":` + quote(prompt) + `}`),
			msg(`{"role":"assistant","content":` + quote(answer) + `}`),
		},
		Rewards: rewards,
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func ids(list []*expt.Rollout) []int64 {
	out := make([]int64, len(list))
	for i, r := range list {
		out[i] = r.ID
	}
	return out
}

func testRollouts(t *testing.T, open func(t *testing.T) expt.Store) {
	t.Run("RoundTripRawMessages", func(t *testing.T) {
		f := newFixture(t, open)
		raw1 := `{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"x\": 1}"}}],  "extra": {"b":2,"a":1}}`
		raw2 := `{"content":"result: 3","role":"tool","tool_call_id":"c1","name":"f"}`
		r := &expt.Rollout{
			Step: 3, Mode: "train", Prompt: "Add 1 and 2", PromptRaw: json.RawMessage(`{"role":"user","content":"Add 1 and 2","meta":{"k":[1,2]}}`),
			Messages: []expt.Message{msg(raw1), msg(raw2), {Role: "assistant", Content: "made without raw"}},
			Rewards:  []expt.Reward{{Name: "correct", Value: 1}, {Name: "len", Value: math.NaN()}, {Name: "big", Value: math.Inf(-1)}},
			TS:       1700000000.25,
		}
		applied, err := f.s.WriteRollouts(f.ctx, f.expID, []*expt.Rollout{r}, "")
		must(t, "WriteRollouts", err)
		if !applied || r.ID == 0 || r.CreatedAt.IsZero() {
			t.Fatalf("applied=%v ID=%d CreatedAt=%v", applied, r.ID, r.CreatedAt)
		}
		got, err := f.s.Rollout(f.ctx, f.expID, r.ID)
		must(t, "Rollout", err)
		if got.Step != 3 || got.Mode != "train" || got.Prompt != r.Prompt || string(got.PromptRaw) != string(r.PromptRaw) ||
			got.TS != r.TS || got.ExperimentID != f.expID || !got.CreatedAt.Equal(r.CreatedAt) {
			t.Fatalf("Rollout = %+v, want %+v", got, r)
		}
		if len(got.Messages) != 3 || string(got.Messages[0].Raw) != raw1 || string(got.Messages[1].Raw) != raw2 {
			t.Fatalf("messages not preserved byte for byte: %q", got.Messages)
		}
		if got.Messages[1].Role != "tool" || got.Messages[1].Content != "result: 3" || got.Messages[0].Content != "" ||
			got.Messages[2].Role != "assistant" || got.Messages[2].Content != "made without raw" {
			t.Fatalf("roles/contents = %+v", got.Messages)
		}
		rw := map[string]float64{}
		for _, x := range got.Rewards {
			rw[x.Name] = x.Value
		}
		if len(rw) != 3 || rw["correct"] != 1 || !math.IsNaN(rw["len"]) || !math.IsInf(rw["big"], -1) {
			t.Fatalf("rewards = %+v", got.Rewards)
		}
		plain := rollout(4, "train", "Add 1 and 2", "3")
		_, err = f.s.WriteRollouts(f.ctx, f.expID, []*expt.Rollout{plain}, "")
		must(t, "WriteRollouts plain prompt", err)
		got, _ = f.s.Rollout(f.ctx, f.expID, plain.ID)
		if got.PromptRaw != nil || got.Prompt != "Add 1 and 2" {
			t.Fatalf("string prompt came back as %q / %q", got.Prompt, got.PromptRaw)
		}
		_, err = f.s.Rollout(f.ctx, f.expID, r.ID+100)
		wantCode(t, "Rollout(missing)", err, expt.ENOTFOUND)
		other := f.newExperiment(f.user.ID, "other")
		_, err = f.s.Rollout(f.ctx, other.ID, r.ID)
		wantCode(t, "Rollout(of another experiment)", err, expt.ENOTFOUND)
		e, _ := f.s.Experiment(f.ctx, f.expID)
		if e.LatestStep == nil || *e.LatestStep != 4 {
			t.Fatalf("LatestStep after rollouts = %v, want 4", e.LatestStep)
		}
	})

	t.Run("LargeBatch", func(t *testing.T) {
		// 8 reasoning traces of about 300 KB each: a store may write such a
		// batch another way (PostgreSQL: through COPY); it must read back
		// the same, rewards, groups and search included.
		f := newFixture(t, open)
		trace := "<think>" + strings.Repeat("Let me verify: $\\frac{70}{220} = \\frac{7}{22}$ and the code `x = y + 1` runs. ", 3000) + "</think> the answer is 42"
		var batch []*expt.Rollout
		for i := range 8 {
			batch = append(batch, rollout(3, "train", fmt.Sprintf("problem %d", i%2), fmt.Sprintf("zebra%d ", i)+trace,
				expt.Reward{Name: "correct", Value: float64(i % 2)}, expt.Reward{Name: "len", Value: math.NaN()}))
		}
		if _, err := f.s.WriteRollouts(f.ctx, f.expID, batch, "big"); err != nil {
			t.Fatal(err)
		}
		page, _, err := f.s.Rollouts(f.ctx, expt.RolloutQuery{ExperimentID: f.expID, Limit: 100})
		if err != nil || len(page) != 8 {
			t.Fatalf("read back %d rollouts, %v", len(page), err)
		}
		for i, r := range page {
			if r.ID != batch[i].ID || r.Prompt != batch[i].Prompt || len(r.Messages) != 2 || r.Messages[1].Content != batch[i].Messages[1].Content ||
				string(r.Messages[1].Raw) != string(batch[i].Messages[1].Raw) || len(r.Rewards) != 2 || !math.IsNaN(r.Rewards[1].Value) {
				t.Fatalf("rollout %d read back differently", i)
			}
		}
		hits, _, err := f.s.Rollouts(f.ctx, expt.RolloutQuery{ExperimentID: f.expID, Search: "zebra5"})
		if err != nil || len(hits) != 1 || hits[0].ID != batch[5].ID {
			t.Fatalf("search in a large batch: %d hits, %v", len(hits), err)
		}
		groups, _, err := f.s.RolloutGroups(f.ctx, expt.GroupQuery{ExperimentID: f.expID})
		if err != nil || len(groups) != 2 || groups[0].Count != 4 {
			t.Fatalf("groups of a large batch: %+v, %v", groups, err)
		}
	})

	t.Run("ScopedIdempotencyKeys", func(t *testing.T) {
		// Keys made by expt.IdempotencyKey: the same body again is a replay,
		// another body EUNPROCESSABLE, another endpoint a new key; and a key
		// an earlier version stored bare still makes its batch a replay.
		f := newFixture(t, open)
		write := func(idem string) (bool, error) {
			return f.s.WriteRollouts(f.ctx, f.expID, []*expt.Rollout{rollout(1, "train", "p", "a")}, idem)
		}
		k := expt.IdempotencyKey("rollouts", "run/0/r0", []byte("body A"))
		for i, want := range []bool{true, false} {
			if applied, err := write(k); err != nil || applied != want {
				t.Fatalf("write %d: applied=%v, %v; want %v", i, applied, err, want)
			}
		}
		if _, err := write(expt.IdempotencyKey("rollouts", "run/0/r0", []byte("body B"))); expt.ErrorCode(err) != expt.EUNPROCESSABLE {
			t.Errorf("same key, other body: %v, want unprocessable", err)
		}
		if applied, err := write(expt.IdempotencyKey("other", "run/0/r0", []byte("body B"))); err != nil || !applied {
			t.Errorf("same key on another endpoint: applied=%v, %v", applied, err)
		}
		if applied, err := write("old/0/r0"); err != nil || !applied { // stored bare, as before body hashes
			t.Fatalf("bare key: %v %v", applied, err)
		}
		if applied, err := write(expt.IdempotencyKey("rollouts", "old/0/r0", []byte("body C"))); err != nil || applied {
			t.Errorf("a retry of a batch stored under a bare key: applied=%v, %v; want a replay", applied, err)
		}
		page, _, err := f.s.Rollouts(f.ctx, expt.RolloutQuery{ExperimentID: f.expID, Limit: 100})
		if err != nil || len(page) != 3 {
			t.Errorf("%d rollouts stored, want 3 (%v)", len(page), err)
		}
	})

	t.Run("IdempotencyAndValidation", func(t *testing.T) {
		f := newFixture(t, open)
		batch := []*expt.Rollout{rollout(1, "train", "p", "a"), rollout(1, "train", "p", "b")}
		applied, err := f.s.WriteRollouts(f.ctx, f.expID, batch, "k")
		must(t, "first", err)
		applied2, err := f.s.WriteRollouts(f.ctx, f.expID, []*expt.Rollout{rollout(1, "train", "p", "a")}, "k")
		must(t, "replay", err)
		if !applied || applied2 {
			t.Fatalf("applied = %v then %v, want true then false", applied, applied2)
		}
		page, _, err := f.s.Rollouts(f.ctx, expt.RolloutQuery{ExperimentID: f.expID})
		must(t, "Rollouts", err)
		if len(page) != 2 {
			t.Fatalf("replay duplicated rollouts: %d", len(page))
		}
		_, err = f.s.WriteRollouts(f.ctx, f.expID, []*expt.Rollout{rollout(1, "", "p", "a")}, "")
		wantCode(t, "missing mode", err, expt.EINVALID)
		_, err = f.s.WriteRollouts(f.ctx, f.expID, []*expt.Rollout{rollout(1, "train", "p", "a", expt.Reward{Name: "", Value: 1})}, "")
		wantCode(t, "empty reward name", err, expt.EINVALID)
		_, err = f.s.WriteRollouts(f.ctx, expt.NewUUID(), batch, "")
		wantCode(t, "unknown experiment", err, expt.ENOTFOUND)
		for _, bad := range []expt.RolloutQuery{
			{ExperimentID: f.expID, Rewards: []expt.RewardFilter{{Name: "r", Op: "~", Value: 1}}},
			{ExperimentID: f.expID, Rewards: []expt.RewardFilter{{Name: "", Op: ">", Value: 1}}},
			{ExperimentID: f.expID, Sort: "nope"},
			{ExperimentID: f.expID, Sort: expt.SortReward},
		} {
			_, _, err := f.s.Rollouts(f.ctx, bad)
			wantCode(t, fmt.Sprintf("Rollouts(%+v)", bad), err, expt.EINVALID)
		}
		_, _, err = f.s.Rollouts(f.ctx, expt.RolloutQuery{ExperimentID: expt.NewUUID()})
		wantCode(t, "Rollouts(unknown experiment)", err, expt.ENOTFOUND)
	})

	t.Run("FiltersSortsPages", func(t *testing.T) {
		f := newFixture(t, open)
		var all []*expt.Rollout
		for step := int64(0); step < 6; step++ {
			for i := 0; i < 4; i++ {
				mode := "train"
				if i == 3 {
					mode = "eval"
				}
				r := rollout(step, mode, fmt.Sprintf("prompt %d", i%2), fmt.Sprintf("answer %d at %d", i, step),
					expt.Reward{Name: "score", Value: float64((int(step)*7+i*3)%10) / 10},
					expt.Reward{Name: "len", Value: float64(i)})
				if step == 2 && i == 0 {
					r.Rewards[0].Value = math.NaN()
				}
				all = append(all, r)
			}
		}
		_, err := f.s.WriteRollouts(f.ctx, f.expID, all[:10], "")
		must(t, "WriteRollouts", err)
		_, err = f.s.WriteRollouts(f.ctx, f.expID, all[10:], "")
		must(t, "WriteRollouts", err)
		check := func(name string, q expt.RolloutQuery, keep func(*expt.Rollout) bool) {
			t.Helper()
			q.ExperimentID = f.expID
			q.Limit = 1000
			page, more, err := f.s.Rollouts(f.ctx, q)
			must(t, name, err)
			var want []int64
			for _, r := range all {
				if keep(r) {
					want = append(want, r.ID)
				}
			}
			if fmt.Sprint(ids(page)) != fmt.Sprint(want) || more {
				t.Fatalf("%s: ids %v (more %v), want %v", name, ids(page), more, want)
			}
		}
		score := func(r *expt.Rollout) float64 { return r.Rewards[0].Value }
		check("all", expt.RolloutQuery{}, func(*expt.Rollout) bool { return true })
		check("mode", expt.RolloutQuery{Mode: "eval"}, func(r *expt.Rollout) bool { return r.Mode == "eval" })
		check("step", expt.RolloutQuery{Step: ptr(int64(2))}, func(r *expt.Rollout) bool { return r.Step == 2 })
		check("range", expt.RolloutQuery{FromStep: ptr(int64(1)), ToStep: ptr(int64(3))}, func(r *expt.Rollout) bool { return r.Step >= 1 && r.Step <= 3 })
		check("prompt", expt.RolloutQuery{Prompt: ptr("prompt 1")}, func(r *expt.Rollout) bool { return r.Prompt == "prompt 1" })
		check("reward >=", expt.RolloutQuery{Rewards: []expt.RewardFilter{{Name: "score", Op: ">=", Value: 0.5}}},
			func(r *expt.Rollout) bool { return score(r) >= 0.5 })
		check("rewards ANDed", expt.RolloutQuery{Mode: "train", Rewards: []expt.RewardFilter{{Name: "score", Op: "<", Value: 0.5}, {Name: "len", Op: "!=", Value: 0}}},
			func(r *expt.Rollout) bool { return r.Mode == "train" && score(r) < 0.5 && r.Rewards[1].Value != 0 })
		check("reward =", expt.RolloutQuery{Rewards: []expt.RewardFilter{{Name: "len", Op: "=", Value: 2}}},
			func(r *expt.Rollout) bool { return r.Rewards[1].Value == 2 })
		check("unknown reward", expt.RolloutQuery{Rewards: []expt.RewardFilter{{Name: "nope", Op: ">", Value: -1}}},
			func(*expt.Rollout) bool { return false })

		// Sort by reward, descending: NaN last, ties by id (descending too).
		page, _, err := f.s.Rollouts(f.ctx, expt.RolloutQuery{ExperimentID: f.expID, Sort: expt.SortReward + "score", Desc: true, Limit: 1000})
		must(t, "sort by reward", err)
		if len(page) != len(all) || !math.IsNaN(score(page[len(page)-1])) {
			t.Fatalf("sort by reward: %d rollouts, last %v", len(page), page[len(page)-1].Rewards)
		}
		for i := 1; i < len(page)-1; i++ {
			a, b := score(page[i-1]), score(page[i])
			if a < b || a == b && page[i-1].ID < page[i].ID {
				t.Fatalf("sort by reward desc broken at %d: %v(%d) then %v(%d)", i, a, page[i-1].ID, b, page[i].ID)
			}
		}
		// Sort by reward, paged, both directions, against a brute-force
		// order: valued rollouts by (value, id), then NaN and missing ones by id.
		extra := rollout(9, "train", "no score", "x", expt.Reward{Name: "len", Value: 1})
		_, err = f.s.WriteRollouts(f.ctx, f.expID, []*expt.Rollout{extra}, "")
		must(t, "WriteRollouts without score", err)
		withExtra := append(append([]*expt.Rollout{}, all...), extra)
		for _, desc := range []bool{false, true} {
			var valued, rest []*expt.Rollout
			for _, r := range withExtra {
				if len(r.Rewards) > 1 && !math.IsNaN(score(r)) {
					valued = append(valued, r)
				} else {
					rest = append(rest, r)
				}
			}
			sort.SliceStable(valued, func(i, j int) bool {
				a, b := valued[i], valued[j]
				if score(a) != score(b) {
					return score(a) < score(b) != desc
				}
				return a.ID < b.ID != desc
			})
			sort.SliceStable(rest, func(i, j int) bool { return rest[i].ID < rest[j].ID != desc })
			want := ids(append(valued, rest...))
			var got []int64
			for off := 0; ; off += 7 {
				page, more, err := f.s.Rollouts(f.ctx, expt.RolloutQuery{ExperimentID: f.expID, Sort: expt.SortReward + "score", Desc: desc, Offset: off, Limit: 7})
				must(t, "sort by reward page", err)
				got = append(got, ids(page)...)
				if !more {
					break
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("sort by reward (desc=%v) paged:\n got %v\nwant %v", desc, got, want)
			}
			page, _, err := f.s.Rollouts(f.ctx, expt.RolloutQuery{ExperimentID: f.expID, Sort: expt.SortReward + "score", Desc: desc, Offset: len(want) - 2, Limit: 7})
			must(t, "sort by reward last page", err)
			if fmt.Sprint(ids(page)) != fmt.Sprint(want[len(want)-2:]) {
				t.Fatalf("sort by reward last page = %v, want %v", ids(page), want[len(want)-2:])
			}
		}
		// Sort by reward under every combination of step, step range, mode,
		// prompt, reward filter and search, paged, against brute force.
		rewardOf := func(r *expt.Rollout, name string) (float64, bool) {
			for _, x := range r.Rewards {
				if x.Name == name && !math.IsNaN(x.Value) {
					return x.Value, true
				}
			}
			return 0, false
		}
		hasWord := func(r *expt.Rollout, word string) bool {
			for _, m := range r.Messages {
				for _, w := range strings.Fields(m.Content) {
					if w == word {
						return true
					}
				}
			}
			return false
		}
		type combo struct {
			name string
			q    expt.RolloutQuery
			keep func(*expt.Rollout) bool
		}
		combos := []combo{{"none", expt.RolloutQuery{}, func(*expt.Rollout) bool { return true }}}
		grow := func(name string, q func(*expt.RolloutQuery), keep func(*expt.Rollout) bool) {
			for _, c := range combos {
				nq := c.q
				q(&nq)
				prev := c.keep
				combos = append(combos, combo{c.name + "+" + name, nq, func(r *expt.Rollout) bool { return prev(r) && keep(r) }})
			}
		}
		grow("step", func(q *expt.RolloutQuery) { q.Step = ptr(int64(2)) }, func(r *expt.Rollout) bool { return r.Step == 2 })
		grow("range", func(q *expt.RolloutQuery) { q.FromStep, q.ToStep = ptr(int64(1)), ptr(int64(3)) },
			func(r *expt.Rollout) bool { return r.Step >= 1 && r.Step <= 3 })
		grow("mode", func(q *expt.RolloutQuery) { q.Mode = "train" }, func(r *expt.Rollout) bool { return r.Mode == "train" })
		grow("prompt", func(q *expt.RolloutQuery) { q.Prompt = ptr("prompt 0") }, func(r *expt.Rollout) bool { return r.Prompt == "prompt 0" })
		grow("filter", func(q *expt.RolloutQuery) { q.Rewards = []expt.RewardFilter{{Name: "len", Op: "!=", Value: 1}} },
			func(r *expt.Rollout) bool { v, ok := rewardOf(r, "len"); return ok && v != 1 })
		grow("search", func(q *expt.RolloutQuery) { q.Search = "answer 2" },
			func(r *expt.Rollout) bool { return hasWord(r, "answer") && hasWord(r, "2") })
		for _, c := range combos {
			for _, sortBy := range []string{"score", "len", "nope"} {
				for _, desc := range []bool{false, true} {
					var valued, rest []*expt.Rollout
					for _, r := range withExtra {
						if !c.keep(r) {
							continue
						}
						if _, ok := rewardOf(r, sortBy); ok {
							valued = append(valued, r)
						} else {
							rest = append(rest, r)
						}
					}
					sort.SliceStable(valued, func(i, j int) bool {
						a, _ := rewardOf(valued[i], sortBy)
						b, _ := rewardOf(valued[j], sortBy)
						if a != b {
							return a < b != desc
						}
						return valued[i].ID < valued[j].ID != desc
					})
					sort.SliceStable(rest, func(i, j int) bool { return rest[i].ID < rest[j].ID != desc })
					want := ids(append(valued, rest...))
					q := c.q
					q.ExperimentID, q.Sort, q.Desc, q.Limit = f.expID, expt.SortReward+sortBy, desc, 3
					var got []int64
					for q.Offset = 0; ; q.Offset += 3 {
						page, more, err := f.s.Rollouts(f.ctx, q)
						must(t, c.name, err)
						got = append(got, ids(page)...)
						if !more {
							break
						}
					}
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Fatalf("sort by %s (desc=%v) with %s:\n got %v\nwant %v", sortBy, desc, c.name, got, want)
					}
					q.Offset = len(want) + 2
					if page, more, err := f.s.Rollouts(f.ctx, q); err != nil || len(page) != 0 || more {
						t.Fatalf("sort by %s with %s past the end: %v more=%v %v", sortBy, c.name, ids(page), more, err)
					}
				}
			}
		}

		// Sort by step descending, paged: pages are disjoint and complete.
		var seen []int64
		for off := 0; ; off += 5 {
			page, more, err := f.s.Rollouts(f.ctx, expt.RolloutQuery{ExperimentID: f.expID, Sort: expt.SortStep, Desc: true, Offset: off, Limit: 5})
			must(t, "page", err)
			for i, r := range page {
				if i > 0 && (r.Step > page[i-1].Step || r.Step == page[i-1].Step && r.ID > page[i-1].ID) {
					t.Fatalf("step desc order broken in page at %d", off)
				}
			}
			seen = append(seen, ids(page)...)
			if !more {
				break
			}
		}
		if len(seen) != len(all)+1 {
			t.Fatalf("paging returned %d rollouts, want %d", len(seen), len(all))
		}
		page, more, _ := f.s.Rollouts(f.ctx, expt.RolloutQuery{ExperimentID: f.expID, Limit: 2})
		if len(page) != 2 || !more || page[0].ID != all[0].ID || page[1].ID != all[1].ID {
			t.Fatalf("default sort is logging order: %v more=%v", ids(page), more)
		}
	})

	t.Run("Search", func(t *testing.T) {
		f := newFixture(t, open)
		rs := []*expt.Rollout{
			rollout(1, "train", "What is the capital of France?", "Paris is the capital."),
			rollout(1, "train", "Name a prime number", "Seven, for instance"),
			rollout(2, "eval", "Translate chat", "le chat est noir"),
		}
		_, err := f.s.WriteRollouts(f.ctx, f.expID, rs, "")
		must(t, "WriteRollouts", err)
		search := func(q string) []int64 {
			t.Helper()
			page, _, err := f.s.Rollouts(f.ctx, expt.RolloutQuery{ExperimentID: f.expID, Search: q})
			must(t, "search "+q, err)
			return ids(page)
		}
		cases := map[string][]int64{
			"paris":           {rs[0].ID},
			"PRIME":           {rs[1].ID},
			"capital france":  {rs[0].ID},
			"capital seven":   nil,
			"chat":            {rs[2].ID},
			"pri*":            {rs[1].ID},
			`"le chat"`:       {rs[2].ID},
			`AND OR NOT ( "`:  nil,
			`capital) NEAR(x`: nil,
			"*":               {rs[0].ID, rs[1].ID, rs[2].ID}, // nothing searchable: no filter
		}
		for q, want := range cases {
			if got := search(q); fmt.Sprint(got) != fmt.Sprint(want) && !(len(got) == 0 && len(want) == 0) {
				t.Errorf("search %q = %v, want %v", q, got, want)
			}
		}
		// Whatever a user types is a query, never a server error.
		for _, q := range []string{"😀", "a-b", `"`, "NEAR(", "prompt:paris", "^x", "x OR", "'", "\\", "🙂 paris", "ünïcödé"} {
			if _, _, err := f.s.Rollouts(f.ctx, expt.RolloutQuery{ExperimentID: f.expID, Search: q}); err != nil {
				t.Errorf("search %q: %v", q, err)
			}
			if _, _, err := f.s.RolloutGroups(f.ctx, expt.GroupQuery{ExperimentID: f.expID, Search: q}); err != nil {
				t.Errorf("group search %q: %v", q, err)
			}
		}
		groups, _, err := f.s.RolloutGroups(f.ctx, expt.GroupQuery{ExperimentID: f.expID, Search: "paris"})
		must(t, "group search", err)
		if len(groups) != 1 || groups[0].Prompt != rs[0].Prompt {
			t.Fatalf("group search paris = %+v", groups)
		}
		page, _, err := f.s.Rollouts(f.ctx, expt.RolloutQuery{ExperimentID: f.expID, Search: "capital", Mode: "eval"})
		must(t, "search + mode", err)
		if len(page) != 0 {
			t.Fatalf("search ignored the mode filter: %v", ids(page))
		}
		other := f.newExperiment(f.user.ID, "other")
		page, _, err = f.s.Rollouts(f.ctx, expt.RolloutQuery{ExperimentID: other.ID, Search: "paris"})
		must(t, "search other experiment", err)
		if len(page) != 0 {
			t.Fatalf("search leaked across experiments: %v", ids(page))
		}
	})
}
