package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	"github.com/expt-logger/expt/internal/storekit"
)

//go:embed migration/*.sql
var migrations embed.FS

// migrate applies, in order and each in its own transaction, every
// migration/NNNN_name.sql not yet recorded in schema_migrations.
func migrate(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	list, err := storekit.Migrations(migrations, "migration")
	if err != nil {
		return err
	}
	tx := func(ctx context.Context, fn func(storekit.Conn) error) error {
		// BEGIN IMMEDIATE (see Open): a second process opening a fresh
		// file waits here, then finds the migration recorded.
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("begin migration: %w", err)
		}
		defer tx.Rollback()
		if err := fn(conn{tx}); err != nil {
			return err
		}
		return tx.Commit()
	}
	return storekit.Migrate(ctx, list, tx, nanos(now()))
}
