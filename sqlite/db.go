// Package sqlite is the embedded expt.Store on pure-Go SQLite
// (modernc.org/sqlite): one write connection, a pool of read-only
// connections, numbered migrations and precomputed rollups for charts.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/internal/storekit"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DB is the SQLite store. It is safe for concurrent use.
type DB struct {
	storekit.Common // the methods both stores share

	write *sql.DB       // one connection: SQLite has one writer anyway, and this one never waits on SQLITE_BUSY from itself
	read  *sql.DB       // query_only pool for concurrent readers (WAL)
	rd    storekit.Conn // read, for the store kit's query flows
	cache *cache

	scalars *groupWriter // commits WriteScalars batches, several per transaction
}

var _ expt.Store = (*DB)(nil)

// Open opens (creating the file and its directories) and migrates the database at path.
func Open(ctx context.Context, path string) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create directory: %w", err)
		}
	}
	write, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("open write connection: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	db := &DB{write: write, cache: newCache()}
	if err := migrate(ctx, write); err != nil {
		write.Close()
		return nil, err
	}
	read, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open read pool: %w", err)
	}
	n := max(4, runtime.NumCPU())
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	db.read, db.rd = read, conn{read}
	db.Common = storekit.NewCommon(storekit.Engine{
		Read:  db.rd,
		Write: conn{write},
		// The email column is COLLATE NOCASE.
		EmailKey:   `email`,
		EmailMatch: func(p string) string { return `u.email = ` + p },
		Tx: func(ctx context.Context, fn func(storekit.Conn) error) error {
			return db.tx(ctx, func(tx *sql.Tx) error { return fn(conn{tx}) })
		},
		ReadTx: func(ctx context.Context, fn func(storekit.Conn) error) error {
			tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
			if err != nil {
				return fmt.Errorf("begin read: %w", err)
			}
			defer tx.Rollback()
			return fn(conn{tx})
		},
		RolloutFilter:  baseFilter,
		ExperimentPK:   db.experimentPK,
		Time:           func(t time.Time) any { return nanos(t) },
		RolloutColumns: rolloutColumns,
		ReadPoints:     db.readPoints,
		// instr on lower() rather than LIKE: % and _ in the query are literal.
		NameMatch:   func(p string) string { return `instr(lower(name), lower(` + p + `)) > 0` },
		TagMatch:    func(p string) string { return `EXISTS (SELECT 1 FROM json_each(tags) WHERE value = ` + p + `)` },
		ConfigMatch: configMatch,
		// SQLite's CAST truncates (the floor for x >= 0); PostgreSQL's rounds.
		Floor:           func(e string) string { return `CAST(` + e + ` AS INTEGER)` },
		ExperimentSorts: experimentSorts,
		// Set after: DeleteProject calls back into this store's own delete.
		DeleteExperiments: func(ctx context.Context, projects []int64, ids []string) (int, error) {
			return db.DeleteExperiments(ctx, projects, ids)
		},
	})
	if err := read.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("ping read pool: %w", err)
	}
	db.scalars = startGroupWriter(db)
	// Emails stored before they were normalized (conflicts stay as stored).
	if _, err := db.NormalizeEmails(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// dsn orders the pragmas PocketBase-style: busy_timeout first so that even
// switching to WAL waits for another process instead of failing.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "cache_size(-32000)")
	q.Add("_pragma", "temp_store(MEMORY)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		// IMMEDIATE takes the write lock at BEGIN, so a transaction that
		// reads then writes cannot fail with SQLITE_BUSY half way when
		// another process (expt keys create) writes too.
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// Close fails the scalar batches still queued, waits for the one being
// committed, and closes both connection pools.
func (db *DB) Close() error {
	var errs []error
	if db.scalars != nil {
		errs = append(errs, db.scalars.close())
	}
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil {
		// An optimize on close keeps planner statistics fresh for the next open.
		_, _ = db.write.Exec("PRAGMA optimize")
		errs = append(errs, db.write.Close())
	}
	return errors.Join(errs...)
}

// Ping reports whether both pools answer.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.read.PingContext(ctx); err != nil {
		return fmt.Errorf("ping read pool: %w", err)
	}
	if err := db.write.PingContext(ctx); err != nil {
		return fmt.Errorf("ping write connection: %w", err)
	}
	return nil
}

// tx runs fn in a write transaction, committing when it returns nil.
func (db *DB) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func nanos(t time.Time) int64 { return t.UnixNano() }

// now is rounded to microseconds so that times survive JSON and Postgres alike.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Shared implements expt.Replication: one server opens an SQLite file, so
// its in-process bus and throttle are all there is to share.
func (db *DB) Shared(context.Context, expt.EventBus) (expt.Shared, error) {
	return expt.Shared{}, nil
}
