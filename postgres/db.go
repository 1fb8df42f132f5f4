// Package postgres is the scale-out expt.Store on PostgreSQL (jackc/pgx/v5
// with a connection pool): several `expt serve` replicas share one database
// and behave as one server. Semantics match the sqlite package case for
// case; the shared conformance suite (storetest) checks both.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/internal/storekit"
)

// DB is the PostgreSQL store. It is safe for concurrent use, and any number
// of DBs (in any number of processes) may share one database.
type DB struct {
	storekit.Common // the methods both stores share

	pool  *pgxpool.Pool
	rd    storekit.Conn // pool, for the store kit's query flows
	cache *cache
}

var _ expt.Store = (*DB)(nil)

// Open connects to the database at url (postgres:// or postgresql://) and
// applies the migrations it lacks, under an advisory lock so that replicas
// starting together apply each migration once.
func Open(ctx context.Context, url string) (*DB, error) {
	db, err := connect(ctx, url)
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.pool.Close()
		return nil, err
	}
	// Emails stored before they were normalized (conflicts stay as stored).
	if _, err := db.NormalizeEmails(ctx); err != nil {
		db.pool.Close()
		return nil, err
	}
	return db, nil
}

// connect opens the pool without migrating (for `expt migrate` and Open).
func connect(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	// Times are written and read as UTC whatever the server's default.
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "expt"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	db := &DB{pool: pool, rd: conn{pool}, cache: newCache()}
	db.Common = storekit.NewCommon(storekit.Engine{
		Read:       db.rd,
		Write:      db.rd,
		EmailKey:   `lower(email)`,
		EmailMatch: func(p string) string { return `lower(u.email) = lower(` + p + `)` },
		Tx: func(ctx context.Context, fn func(storekit.Conn) error) error {
			return db.tx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error { return fn(conn{tx}) })
		},
		ReadTx: func(ctx context.Context, fn func(storekit.Conn) error) error {
			return db.tx(ctx, readOnly, func(tx pgx.Tx) error { return fn(conn{tx}) })
		},
		RolloutFilter:  baseFilter,
		Collate:        ` COLLATE "C"`,
		ExperimentPK:   experimentPK,
		Time:           func(t time.Time) any { return t },
		RolloutColumns: rolloutColumns,
		// FOR UPDATE: two replicas updating different fields must not undo each other.
		LockUpdate: ` FOR UPDATE`,
		// strpos rather than LIKE: % and _ in the query are literal.
		NameMatch:   func(p string) string { return `strpos(lower(name), lower(` + p + `)) > 0` },
		TagMatch:    func(p string) string { return `tags::jsonb @> jsonb_build_array(` + p + `::text)` },
		ConfigMatch: configMatch,
		// SQLite's CAST truncates (the floor for x >= 0); PostgreSQL's rounds.
		Floor:           func(e string) string { return `floor(` + e + `)::bigint` },
		ExperimentSorts: experimentSorts,
		NameSortValue:   func(p string) string { return `lower(` + p + `) COLLATE "C"` },
		// Set after: DeleteProject calls back into this store's own delete.
		DeleteExperiments: func(ctx context.Context, projects []int64, ids []string) (int, error) {
			return db.DeleteExperiments(ctx, projects, ids)
		},
	})
	return db, nil
}

// Close closes every connection of the pool.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// maxAttempts bounds how often tx retries a transaction that PostgreSQL
// aborted for a deadlock or serialization failure. Writers take row locks
// in one global order (tables, then sorted keys), so this is a safety net.
const maxAttempts = 5

// tx runs fn in a transaction, committing when it returns nil and retrying
// from the start when PostgreSQL chose it as a deadlock or serialization
// victim. fn must therefore not keep effects outside the transaction
// before it returns.
func (db *DB) tx(ctx context.Context, opts pgx.TxOptions, fn func(pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := db.tryTx(ctx, opts, fn)
		if err == nil || !retryable(err) || attempt == maxAttempts {
			return err
		}
		// Jitter, so that the two victims of a deadlock do not collide again.
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(rand.IntN(10*attempt)+1) * time.Millisecond):
		}
	}
}

func (db *DB) tryTx(ctx context.Context, opts pgx.TxOptions, fn func(pgx.Tx) error) error {
	tx, err := db.pool.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// SQLSTATE codes the store looks for.
const (
	codeUniqueViolation      = "23505"
	codeForeignKeyViolation  = "23503"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
)

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func retryable(err error) bool {
	c := pgCode(err)
	return c == codeSerializationFailure || c == codeDeadlockDetected
}

var readOnly = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}

// now is rounded to microseconds, PostgreSQL's timestamp resolution, so
// that a time the store returns equals the one it later reads back.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func micro(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// Shared implements expt.Replication: live events go through LISTEN/NOTIFY
// so that every replica's watchers see every write, and failed sign-ins are
// counted in the database, or each replica would allow its own guesses.
func (db *DB) Shared(ctx context.Context, local expt.EventBus) (expt.Shared, error) {
	bus, err := db.NewEventBus(ctx, local)
	if err != nil {
		return expt.Shared{}, err
	}
	return expt.Shared{
		Events:   bus,
		Throttle: db.NewSignInThrottle(expt.SignInMaxFailures, expt.SignInWindow),
		Close:    bus.Close,
	}, nil
}
