package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/sqlite"
	"github.com/expt-logger/expt/storetest"
)

// TestGroupsBackfill checks that migration 0004's backfill of existing
// rollouts builds the same group tables that inserts maintain.
func TestGroupsBackfill(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "expt.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, e := storetest.NewExperiment(t, db, "b@example.com", "00000000-0000-4000-8000-000000000004", "b")
	for b := 0; b < 5; b++ {
		var batch []*expt.Rollout
		for i := 0; i < 30; i++ {
			prompt := fmt.Sprintf("q%d", (b*7+i)%4)
			r := &expt.Rollout{Step: int64(i % 3), Mode: []string{"train", "eval"}[i%2], Prompt: prompt,
				Messages: []expt.Message{{Role: "user", Content: prompt}},
				Rewards:  []expt.Reward{{Name: "a", Value: 1e9 + float64(i*b)/7}, {Name: "b", Value: float64(i % 5)}}}
			if i%4 == 0 {
				r.PromptRaw = json.RawMessage(`{"role":"user","content":"` + prompt + `"}`)
			}
			if i%9 == 0 {
				r.Rewards[1].Value = math.NaN()
			}
			batch = append(batch, r)
		}
		if _, err := db.WriteRollouts(ctx, e.ID, batch, ""); err != nil {
			t.Fatal(err)
		}
	}
	before, _, err := db.RolloutGroups(ctx, expt.GroupQuery{ExperimentID: e.ID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile("migration/0004_rollout_groups.sql")
	if err != nil {
		t.Fatal(err)
	}
	backfill := string(body)[strings.Index(string(body), "INSERT INTO rollout_groups"):]
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, `DELETE FROM rollout_groups; DELETE FROM group_rewards; `+backfill); err != nil {
		t.Fatalf("backfill: %v", err)
	}
	after, _, err := db.RolloutGroups(ctx, expt.GroupQuery{ExperimentID: e.ID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) || len(before) == 0 {
		t.Fatalf("%d groups after backfill, %d before", len(after), len(before))
	}
	for i := range before {
		b, a := before[i], after[i]
		if b.Step != a.Step || b.Mode != a.Mode || b.Prompt != a.Prompt || b.Count != a.Count || len(b.Rewards) != len(a.Rewards) {
			t.Fatalf("group %d: %+v after backfill, %+v before", i, a, b)
		}
		for j := range b.Rewards {
			x, y := b.Rewards[j], a.Rewards[j]
			if x.Name != y.Name || x.Count != y.Count || x.NaNs != y.NaNs || x.Min != y.Min || x.Max != y.Max ||
				math.Abs(x.Mean-y.Mean) > 1e-12*math.Abs(x.Mean) || math.Abs(x.Std-y.Std) > 1e-6*x.Std+1e-12 {
				t.Fatalf("group %d reward %d: %+v after backfill, %+v before", i, j, y, x)
			}
		}
	}
}
