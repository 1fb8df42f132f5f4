package storekit

import (
	"context"
	"errors"
)

// Conn is one store's connection (a pool or a transaction) as the shared
// query flows below see it. Each store adapts its driver in a few lines
// (database/sql for SQLite, pgx for PostgreSQL), so the Go around a query
// (scan, page, attach rewards, "not found") is written once and each store
// keeps only its SQL.
type Conn interface {
	// Dollar reports whether placeholders are $1, $2... (else ?).
	Dollar() bool
	Query(ctx context.Context, sql string, args ...any) (QueryRows, error)
	// QueryRow's Scan returns ErrNoRows when there is no row.
	QueryRow(ctx context.Context, sql string, args ...any) Row
	// Exec runs a statement and returns the number of rows it changed.
	Exec(ctx context.Context, sql string, args ...any) (int64, error)
	// Violation names the constraint err broke, if any.
	Violation(err error) Violation
	// SearchError maps the engine's error for a caller's unparsable search
	// to EINVALID; other errors pass unchanged.
	SearchError(err error) error
}

// Violation is the kind of constraint a failed statement broke.
type Violation int

const (
	NoViolation Violation = iota
	Unique
	ForeignKey
)

// QueryRows is a result set the caller closes.
type QueryRows interface {
	Rows
	Close()
}

// ErrNoRows is the error of a Conn's Row.Scan for no row, whichever driver.
var ErrNoRows = errors.New("no rows in result set")

// Found turns a single-row query's error into ok=false for no row.
func Found(err error) (bool, error) {
	if errors.Is(err, ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// In returns the condition "col is one of vs", binding vs in w: one array
// argument for PostgreSQL (one plan whatever the length), a list for SQLite.
func In[T any](w *Where, col string, vs []T) string {
	if w.dollar {
		return col + ` = ANY(` + w.Bind(vs) + `)`
	}
	return col + ` IN (` + BindList(w, vs) + `)`
}
