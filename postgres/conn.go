package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/expt-logger/expt/internal/storekit"
)

// StorageFull implements expt.Store: disk_full (53100), which PostgreSQL
// reports when it cannot extend a file or write WAL.
func (db *DB) StorageFull(err error) bool { return pgCode(err) == "53100" }

// conn adapts a pool or a transaction to storekit.Conn.
type conn struct{ q pgxQuerier }

type pgxQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func (c conn) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	tag, err := c.q.Exec(ctx, sql, args...)
	return tag.RowsAffected(), err
}

func (conn) Dollar() bool                { return true }
func (conn) SearchError(err error) error { return searchError(err) }

func (conn) Violation(err error) storekit.Violation {
	switch pgCode(err) {
	case codeUniqueViolation:
		return storekit.Unique
	case codeForeignKeyViolation:
		return storekit.ForeignKey
	}
	return storekit.NoViolation
}

func (c conn) Query(ctx context.Context, sql string, args ...any) (storekit.QueryRows, error) {
	return c.q.Query(ctx, sql, args...)
}

func (c conn) QueryRow(ctx context.Context, sql string, args ...any) storekit.Row {
	return pgRow{c.q.QueryRow(ctx, sql, args...)}
}

type pgRow struct{ pgx.Row }

func (r pgRow) Scan(dest ...any) error {
	if err := r.Row.Scan(dest...); errors.Is(err, pgx.ErrNoRows) {
		return storekit.ErrNoRows
	} else {
		return err
	}
}
