package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"syscall"

	"github.com/expt-logger/expt/internal/storekit"
)

// StorageFull implements expt.Store: SQLITE_FULL, or the operating
// system's ENOSPC under a write.
func (db *DB) StorageFull(err error) bool {
	if err == nil {
		return false
	}
	m := err.Error()
	return strings.Contains(m, "database or disk is full") || strings.Contains(m, "SQLITE_FULL") ||
		strings.Contains(m, "no space left on device") || errors.Is(err, syscall.ENOSPC)
}

// conn adapts a pool or a transaction to storekit.Conn.
type conn struct{ q sqlQuerier }

type sqlQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (c conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := c.q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (conn) Dollar() bool                { return false }
func (conn) SearchError(err error) error { return ftsError(err) }

// Violation reads the constraint from the message: modernc.org/sqlite's
// error codes are extended codes in an error type of its own, while the
// message names the constraint plainly.
func (conn) Violation(err error) storekit.Violation {
	switch {
	case err == nil:
	case strings.Contains(err.Error(), "UNIQUE"):
		return storekit.Unique
	case strings.Contains(err.Error(), "FOREIGN KEY"):
		return storekit.ForeignKey
	}
	return storekit.NoViolation
}

func (c conn) Query(ctx context.Context, query string, args ...any) (storekit.QueryRows, error) {
	rows, err := c.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (c conn) QueryRow(ctx context.Context, query string, args ...any) storekit.Row {
	return sqlRow{c.q.QueryRowContext(ctx, query, args...)}
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }

type sqlRow struct{ *sql.Row }

func (r sqlRow) Scan(dest ...any) error {
	if err := r.Row.Scan(dest...); errors.Is(err, sql.ErrNoRows) {
		return storekit.ErrNoRows
	} else {
		return err
	}
}
