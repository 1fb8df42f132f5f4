package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// SignInThrottle counts failed sign-ins per key in a fixed window, in the
// database, so that every replica sees every failure: the same rule as the
// in-process throttle of the http package (max failures per window, then
// blocked until the window ends), for a server of several replicas.
type SignInThrottle struct {
	db     *DB
	max    int
	window time.Duration
}

// NewSignInThrottle allows max failures per key per window.
func (db *DB) NewSignInThrottle(max int, window time.Duration) *SignInThrottle {
	return &SignInThrottle{db: db, max: max, window: window}
}

// Blocked returns how long key must wait before trying again, 0 when it may try now.
func (t *SignInThrottle) Blocked(ctx context.Context, key string, now time.Time) (time.Duration, error) {
	var failures int
	var start time.Time
	err := t.db.pool.QueryRow(ctx, `SELECT failures, window_start FROM sign_in_failures WHERE key = $1`, key).Scan(&failures, &start)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("select sign-in failures: %w", err)
	}
	if end := start.Add(t.window); now.Before(end) && failures >= t.max {
		return end.Sub(now), nil
	}
	return 0, nil
}

// Fail counts one failed sign-in for key at now, starting a new window
// when the last one ended. One statement, so concurrent failures on
// several replicas all count.
func (t *SignInThrottle) Fail(ctx context.Context, key string, now time.Time) error {
	now = micro(now)
	expired := now.Add(-t.window)
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO sign_in_failures AS f (key, failures, window_start) VALUES ($1, 1, $2)
		ON CONFLICT (key) DO UPDATE SET
			failures = CASE WHEN f.window_start <= $3 THEN 1 ELSE f.failures + 1 END,
			window_start = CASE WHEN f.window_start <= $3 THEN $2 ELSE f.window_start END`, key, now, expired)
	// Bound the table under a spray of addresses: forget ended windows.
	b.Queue(`DELETE FROM sign_in_failures WHERE window_start <= $1`, expired)
	if err := t.db.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("count sign-in failure: %w", err)
	}
	return nil
}

// Reset forgets key's failures (after a successful sign-in).
func (t *SignInThrottle) Reset(ctx context.Context, key string) error {
	if _, err := t.db.pool.Exec(ctx, `DELETE FROM sign_in_failures WHERE key = $1`, key); err != nil {
		return fmt.Errorf("reset sign-in failures: %w", err)
	}
	return nil
}
