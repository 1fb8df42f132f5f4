package sqlite_test

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/sqlite"
	"github.com/expt-logger/expt/storetest"
)

func openTemp(t *testing.T) *sqlite.DB {
	path := filepath.Join(t.TempDir(), "sub", "expt.db")
	return storetest.Open(t, func() (*sqlite.DB, error) { return sqlite.Open(context.Background(), path) })
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) expt.Store { return openTemp(t) })
}

func TestMigrateEmptyToNewest(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "expt.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	newest := newestMigration(t)
	if v != newest || v < 1 {
		t.Fatalf("SchemaVersion = %d, want %d", v, newest)
	}
	// Every table the store uses exists and is queryable.
	for _, table := range []string{"users", "api_keys", "sessions", "experiments", "series", "points", "rollups",
		"idempotency", "prompts", "rollouts", "reward_names", "rewards", "rollout_tokens", "step_counts", "step_rewards", "rollouts_fts"} {
		if _, err := db.RawDB().ExecContext(ctx, "SELECT count(*) FROM "+table); err != nil {
			t.Errorf("table %s: %v", table, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopening applies nothing twice.
	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	var n int
	if err := db.RawDB().QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != newest {
		t.Fatalf("schema_migrations has %d rows (%v), want %d", n, err, newest)
	}
}

func newestMigration(t *testing.T) int {
	names, err := filepath.Glob("migration/*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("no migrations: %v", err)
	}
	slices.Sort(names)
	v, err := strconv.Atoi(strings.SplitN(filepath.Base(names[len(names)-1]), "_", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSecondHandle is `expt keys create` run while the server holds the
// database: a second Open of the same file must write, and the first must see it.
func TestSecondHandle(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "expt.db")
	server, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	u, e := storetest.NewExperiment(t, server, "admin@localhost", "00000000-0000-4000-8000-000000000001", "busy")
	// Keep the server writing while the CLI handle opens and writes.
	done := make(chan error, 1)
	go func() {
		for i := range 50 {
			batch := make([]expt.Scalar, 200)
			for j := range batch {
				batch[j] = expt.Scalar{Step: int64(i*200 + j), Mode: "train", Name: "loss", Value: float64(j)}
			}
			if _, err := server.WriteScalars(ctx, e.ID, batch, ""); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := range 3 {
		cli, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatalf("second open: %v", err)
		}
		first, err := cli.FirstUser(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, hash, _ := expt.NewToken(expt.KeyPrefix)
		if err := cli.CreateAPIKey(ctx, &expt.APIKey{UserID: first.ID, Name: strconv.Itoa(i)}, hash); err != nil {
			t.Fatalf("create key from second handle: %v", err)
		}
		if err := cli.Close(); err != nil {
			t.Fatal(err)
		}
		if got, _, err := server.UserByAPIKey(ctx, hash); err != nil || got.ID != u.ID {
			t.Fatalf("server does not see the new key: %v", err)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("server writes during second handle: %v", err)
	}
	keys, _ := server.APIKeys(ctx, u.ID)
	if len(keys) != 3 {
		t.Fatalf("%d keys, want 3", len(keys))
	}
}

// TestNaNIsNullNotZero checks the storage form: SQLite turns a NaN into
// NULL, and a NULL must come back as NaN, never as 0.
func TestNaNIsNullNotZero(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	_, e := storetest.NewExperiment(t, db, "a@b", "00000000-0000-4000-8000-000000000002", "nan")
	if _, err := db.WriteScalars(ctx, e.ID, []expt.Scalar{{Step: 1, Mode: "train", Name: "x", Value: math.NaN()}}, ""); err != nil {
		t.Fatal(err)
	}
	r := &expt.Rollout{Step: 1, Mode: "train", Prompt: "p", Rewards: []expt.Reward{{Name: "r", Value: math.NaN()}}}
	if _, err := db.WriteRollouts(ctx, e.ID, []*expt.Rollout{r}, ""); err != nil {
		t.Fatal(err)
	}
	var nulls int
	err := db.RawDB().QueryRowContext(ctx, `SELECT (SELECT count(*) FROM points WHERE value IS NULL) + (SELECT count(*) FROM rewards WHERE value IS NULL)`).Scan(&nulls)
	if err != nil || nulls != 2 {
		t.Fatalf("NULL values stored = %d (%v), want 2", nulls, err)
	}
	pts, _ := db.Scalars(ctx, e.ID, "train")
	got, _ := db.Rollout(ctx, e.ID, r.ID)
	if !math.IsNaN(pts["x"][0].Value) || !math.IsNaN(got.Rewards[0].Value) {
		t.Fatalf("NaN came back as %v and %v", pts["x"][0].Value, got.Rewards[0].Value)
	}
	sr, _ := db.StepRewards(ctx, e.ID, "")
	if len(sr) != 1 || sr[0].Rewards[0].NaNs != 1 || sr[0].Rewards[0].Count != 0 {
		t.Fatalf("StepRewards of a NaN = %+v", sr)
	}
}

// TestDeleteRemovesIndexRows checks what the conformance suite cannot see:
// rows of a deleted experiment are gone from every table, the full-text
// index included (contentless_delete).
func TestDeleteRemovesIndexRows(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	_, e := storetest.NewExperiment(t, db, "a@b", "00000000-0000-4000-8000-000000000003", "gone")
	r := &expt.Rollout{Step: 1, Mode: "train", Prompt: "zanzibar", Messages: []expt.Message{{Role: "user", Content: "quixotic"}},
		Rewards: []expt.Reward{{Name: "r", Value: 1}}, Tokens: []expt.MessageTokens{{Message: 0, Text: []string{"quix", "otic"}}}}
	if _, err := db.WriteRollouts(ctx, e.ID, []*expt.Rollout{r}, "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.WriteScalars(ctx, e.ID, []expt.Scalar{{Step: 1, Mode: "train", Name: "x", Value: 1}}, "k2"); err != nil {
		t.Fatal(err)
	}
	count := func(q string) int {
		var n int
		if err := db.RawDB().QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	if count(`SELECT count(*) FROM rollouts_fts WHERE rollouts_fts MATCH 'quixotic'`) != 1 {
		t.Fatal("rollout not indexed")
	}
	if n, err := db.DeleteExperiments(ctx, []int64{e.ProjectID}, []string{e.ID}); err != nil || n != 1 {
		t.Fatalf("DeleteExperiments = %d, %v", n, err)
	}
	for _, q := range []string{
		`SELECT count(*) FROM rollouts_fts WHERE rollouts_fts MATCH 'quixotic OR zanzibar'`,
		`SELECT count(*) FROM rollouts`, `SELECT count(*) FROM rewards`, `SELECT count(*) FROM rollout_tokens`, `SELECT count(*) FROM prompts`,
		`SELECT count(*) FROM reward_names`, `SELECT count(*) FROM step_counts`, `SELECT count(*) FROM step_rewards`,
		`SELECT count(*) FROM points`, `SELECT count(*) FROM rollups`, `SELECT count(*) FROM series`,
		`SELECT count(*) FROM idempotency`, `SELECT count(*) FROM experiments`,
	} {
		if n := count(q); n != 0 {
			t.Errorf("%s = %d after delete", q, n)
		}
	}
}
