package postgres_test

import (
	"context"
	"sync"
	"testing"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/postgres"
	"github.com/expt-logger/expt/postgres/pgtest"
	"github.com/expt-logger/expt/storetest"
)

func openTemp(t *testing.T) *postgres.DB {
	return storetest.Open(t, func() (*postgres.DB, error) { return postgres.Open(context.Background(), pgtest.URL(t)) })
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) expt.Store { return openTemp(t) })
}

// TestConformanceBroadRewardFilters runs the suite with every reward
// filter treated as broad (probed per rollout), the path large experiments
// take, which the suite's small data sets would otherwise never reach.
func TestConformanceBroadRewardFilters(t *testing.T) {
	defer postgres.SetSelectiveLimit(1)()
	storetest.Run(t, func(t *testing.T) expt.Store { return openTemp(t) })
}

// TestConcurrentOpenMigratesOnce opens four stores on one fresh database
// at once, as replicas starting together do: every one must succeed and
// the schema must be at the newest version, each migration applied once.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	const n = 4
	dbs := make([]*postgres.DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dbs[i], errs[i] = postgres.Open(ctx, url)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer dbs[i].Close()
	}
	v, err := dbs[0].SchemaVersion(ctx)
	if err != nil || v != postgres.NewestMigration(t) {
		t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, postgres.NewestMigration(t))
	}
	var rows int
	if err := dbs[0].Pool().QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != v {
		t.Fatalf("schema_migrations has %d rows for version %d: a migration was recorded twice or skipped", rows, v)
	}
	// Reopening applies nothing and keeps the version.
	again, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if v2, _ := again.SchemaVersion(ctx); v2 != v {
		t.Fatalf("version after reopen = %d, want %d", v2, v)
	}
}
