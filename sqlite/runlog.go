package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/internal/storekit"
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

// Errors returns an experiment's errors in logging order.
func (db *DB) Errors(ctx context.Context, experimentID string, offset, limit int) ([]expt.RunError, bool, error) {
	pk, err := db.experimentPK(ctx, db.read, experimentID)
	if err != nil {
		return nil, false, err
	}
	if limit <= 0 {
		limit = 50
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+storekit.RunErrorColumns+` FROM run_errors
		WHERE experiment = ? ORDER BY id LIMIT ? OFFSET ?`, pk, limit+1, offset)
	if err != nil {
		return nil, false, fmt.Errorf("select errors: %w", err)
	}
	defer rows.Close()
	out, err := storekit.ScanRunErrors(rows)
	if err != nil {
		return nil, false, err
	}
	out, more := storekit.Page(out, limit)
	return out, more, nil
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

// EnvLogs returns the logs of one client rollout id in logging order.
func (db *DB) EnvLogs(ctx context.Context, experimentID, rolloutID string) ([]expt.EnvLog, error) {
	pk, err := db.experimentPK(ctx, db.read, experimentID)
	if err != nil {
		return nil, err
	}
	rows, err := db.read.QueryContext(ctx, `SELECT id, content, created_at FROM env_logs WHERE experiment = ? AND rollout = ? ORDER BY id`, pk, rolloutID)
	if err != nil {
		return nil, fmt.Errorf("select env logs: %w", err)
	}
	defer rows.Close()
	return storekit.ScanEnvLogs(rows, rolloutID)
}

// appendBatch runs write in one transaction after claiming idemKey; it
// reports applied=false when the key was already used.
func (db *DB) appendBatch(ctx context.Context, experimentID, idemKey string, write func(*sql.Tx, int64) error) (bool, error) {
	applied := false
	err := db.tx(ctx, func(tx *sql.Tx) error {
		pk, err := db.experimentPK(ctx, tx, experimentID)
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
