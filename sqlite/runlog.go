package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/expt-logger/expt"
)

// WriteErrors appends reported errors, all or nothing, once per idemKey.
func (db *DB) WriteErrors(ctx context.Context, experimentID string, batch []expt.RunError, idemKey string) (bool, error) {
	if err := expt.CheckRunErrors(batch); err != nil {
		return false, err
	}
	return db.appendBatch(ctx, experimentID, idemKey, func(tx *sql.Tx, pk int64) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO run_errors(experiment, step, mode, message, type, traceback, ts, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("prepare error insert: %w", err)
		}
		defer st.Close()
		created := nanos(now())
		for _, e := range batch {
			var step sql.NullInt64
			if e.Step != nil {
				step = sql.NullInt64{Int64: *e.Step, Valid: true}
			}
			if _, err := st.ExecContext(ctx, pk, step, e.Mode, e.Message, e.Type, e.Traceback, e.TS, created); err != nil {
				return fmt.Errorf("insert error: %w", err)
			}
		}
		// An error's step does not move latestStep: that is the highest step
		// of a scalar or rollout.
		return touchExperiment(ctx, tx, pk, -1)
	})
}

// WriteEnvLogs appends environment logs, all or nothing, once per idemKey.
func (db *DB) WriteEnvLogs(ctx context.Context, experimentID string, batch []expt.EnvLog, idemKey string) (bool, error) {
	if err := expt.CheckEnvLogs(batch); err != nil {
		return false, err
	}
	return db.appendBatch(ctx, experimentID, idemKey, func(tx *sql.Tx, pk int64) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO env_logs(experiment, rollout, content, created_at) VALUES (?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("prepare env log insert: %w", err)
		}
		defer st.Close()
		created := nanos(now())
		for _, l := range batch {
			if _, err := st.ExecContext(ctx, pk, l.RolloutID, l.Content, created); err != nil {
				return fmt.Errorf("insert env log: %w", err)
			}
		}
		return touchExperiment(ctx, tx, pk, -1)
	})
}

// appendBatch runs write in one transaction after claiming idemKey; it
// reports applied=false when the key was already used.
func (db *DB) appendBatch(ctx context.Context, experimentID, idemKey string, write func(*sql.Tx, int64) error) (bool, error) {
	applied := false
	err := db.tx(ctx, func(tx *sql.Tx) error {
		pk, err := db.experimentPK(ctx, conn{tx}, experimentID)
		if err != nil {
			return err
		}
		if ok, err := claimIdempotencyKey(ctx, tx, pk, idemKey); err != nil || !ok {
			return err
		}
		applied = true
		return write(tx, pk)
	})
	return applied, err
}
