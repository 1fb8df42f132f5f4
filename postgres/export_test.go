package postgres

import (
	"io/fs"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Pool is the connection pool, for tests that inspect the storage form.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// SetSelectiveLimit changes selectiveLimit until the returned function restores it.
func SetSelectiveLimit(n int) func() {
	old := selectiveLimit
	selectiveLimit = n
	return func() { selectiveLimit = old }
}

// NewestMigration is the number of the last embedded migration.
func NewestMigration(t *testing.T) int {
	names, err := fs.Glob(migrations, "migration/*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("migrations: %v", err)
	}
	newest := 0
	for _, n := range names {
		v, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(n, "migration/"), "_", 2)[0])
		if err != nil {
			t.Fatal(err)
		}
		newest = max(newest, v)
	}
	return newest
}
