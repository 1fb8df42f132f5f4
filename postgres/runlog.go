package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/expt-logger/expt"
)

// WriteErrors appends reported errors, all or nothing, once per idemKey.
func (db *DB) WriteErrors(ctx context.Context, experimentID string, batch []expt.RunError, idemKey string) (bool, error) {
	steps := make([]*int64, len(batch))
	modes, msgs, types, tbs := make([]string, len(batch)), make([]string, len(batch)), make([]string, len(batch)), make([]string, len(batch))
	tss := make([]float64, len(batch))
	if err := expt.CheckRunErrors(batch); err != nil {
		return false, err
	}
	for i, e := range batch {
		steps[i], modes[i], msgs[i], types[i], tbs[i], tss[i] = e.Step, e.Mode, e.Message, e.Type, e.Traceback, e.TS
	}
	return db.appendBatch(ctx, experimentID, idemKey, func(tx pgx.Tx, pk int64) error {
		b := &pgx.Batch{}
		// WITH ORDINALITY keeps the batch's order in the ids.
		b.Queue(`INSERT INTO run_errors(experiment, step, mode, message, type, traceback, ts, created_at)
			SELECT $1, s, m, msg, t, tb, ts, $2
			FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::float8[]) WITH ORDINALITY AS x(s, m, msg, t, tb, ts, i)
			ORDER BY i`, pk, now(), steps, modes, msgs, types, tbs, tss)
		// An error's step does not move latestStep: that is the highest step
		// of a scalar or rollout.
		b.Queue(touchSQL, now(), int64(-1), pk)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("insert errors: %w", err)
		}
		return nil
	})
}

// WriteEnvLogs appends environment logs, all or nothing, once per idemKey.
func (db *DB) WriteEnvLogs(ctx context.Context, experimentID string, batch []expt.EnvLog, idemKey string) (bool, error) {
	ids, contents := make([]string, len(batch)), make([]string, len(batch))
	if err := expt.CheckEnvLogs(batch); err != nil {
		return false, err
	}
	for i, l := range batch {
		ids[i], contents[i] = l.RolloutID, l.Content
	}
	return db.appendBatch(ctx, experimentID, idemKey, func(tx pgx.Tx, pk int64) error {
		b := &pgx.Batch{}
		b.Queue(`INSERT INTO env_logs(experiment, rollout, content, created_at)
			SELECT $1, r, c, $2 FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS x(r, c, i) ORDER BY i`, pk, now(), ids, contents)
		b.Queue(touchSQL, now(), int64(-1), pk)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("insert env logs: %w", err)
		}
		return nil
	})
}
