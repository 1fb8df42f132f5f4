package storekit

import "context"

// Table is one table of a store's rows in neither engine's encoding, for
// copying a whole installation from one store to another (expt copy). The
// source lists its tables in the logical schema both stores share (the
// names and columns of the embedded schema), in an order that keeps
// references valid, and converts each value to one of int64, float64 (NaN
// for a missing number), bool, string, []byte, time.Time or nil for NULL. The
// destination puts them in its own form. Engine-only tables (rollups,
// search indexes) are not listed: the destination rebuilds its own.
type Table struct {
	Name    string
	Columns []string
	// Rows reads the table; the caller closes them.
	Rows func(ctx context.Context) (TableRows, error)
	// Count is how many rows Rows yields, counted separately so that the
	// destination can check it copied every one.
	Count func(ctx context.Context) (int64, error)
}

// TableRows is a table's rows, read one by one (pgx.CopyFromSource, and Close).
type TableRows interface {
	Next() bool
	// Values is the current row, in Columns order.
	Values() ([]any, error)
	Err() error
	Close()
}
