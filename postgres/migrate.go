package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/expt-logger/expt/internal/storekit"
	"github.com/jackc/pgx/v5"
)

//go:embed migration/*.sql
var migrations embed.FS

// migrationLock is the pg_advisory_lock key that serialises migrations
// between replicas (any constant unlikely to clash: "expt" in ASCII).
const migrationLock = 0x65787074

// Migrate applies, in order and each in its own transaction, every
// migration/NNNN_name.sql not yet recorded in schema_migrations, and
// returns the newest applied version. Replicas that start together wait for
// each other on an advisory lock, so each migration runs exactly once.
func (db *DB) Migrate(ctx context.Context) (int, error) {
	lock, err := db.pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate: acquire connection: %w", err)
	}
	defer lock.Release()
	if _, err := lock.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrationLock)); err != nil {
		return 0, fmt.Errorf("migrate: take lock: %w", err)
	}
	// A session lock: released explicitly, even when ctx is cancelled. If
	// the unlock fails the connection is dropped, which releases it too.
	defer func() {
		if _, err := lock.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrationLock)); err != nil {
			_ = lock.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	if _, err := lock.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return 0, fmt.Errorf("create schema_migrations: %w", err)
	}
	list, err := storekit.Migrations(migrations, "migration")
	if err != nil {
		return 0, err
	}
	tx := func(ctx context.Context, fn func(storekit.Conn) error) error {
		return pgx.BeginFunc(ctx, lock, func(tx pgx.Tx) error { return fn(conn{tx}) })
	}
	if err := storekit.Migrate(ctx, list, tx, now()); err != nil {
		return 0, err
	}
	return db.SchemaVersion(ctx)
}
