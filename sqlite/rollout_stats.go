package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/internal/storekit"
)

// StepRewards returns per-step reward summaries from the incrementally
// maintained step tables.
func (db *DB) StepRewards(ctx context.Context, experimentID, mode string) ([]expt.StepRewards, error) {
	pk, err := db.experimentPK(ctx, db.rd, experimentID)
	if err != nil {
		return nil, err
	}
	cond, args := `experiment = ?`, []any{pk}
	if mode != "" {
		cond, args = cond+` AND mode = ?`, append(args, mode)
	}
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT mode, step, count FROM step_counts WHERE `+cond+` ORDER BY step, mode`, args...)
	if err != nil {
		return nil, fmt.Errorf("select step counts: %w", err)
	}
	table, err := storekit.ScanStepCounts(rows)
	rows.Close()
	if err != nil {
		return nil, err
	}
	rows, err = tx.QueryContext(ctx, `SELECT s.mode, s.step, n.name, s.count, s.nans, s.sum, s.sumsq, s.min, s.max
		FROM step_rewards s JOIN reward_names n ON n.id = s.name_id WHERE s.`+cond+` ORDER BY n.name`, args...)
	if err != nil {
		return nil, fmt.Errorf("select step rewards: %w", err)
	}
	defer rows.Close()
	return table.Steps, table.ScanRewards(rows)
}

// RolloutSteps lists the steps that have rollouts, by mode then step.
func (db *DB) RolloutSteps(ctx context.Context, experimentID string) ([]expt.StepCount, error) {
	pk, err := db.experimentPK(ctx, db.rd, experimentID)
	if err != nil {
		return nil, err
	}
	rows, err := db.read.QueryContext(ctx, `SELECT mode, step, count FROM step_counts WHERE experiment = ? ORDER BY mode, step`, pk)
	if err != nil {
		return nil, fmt.Errorf("select rollout steps: %w", err)
	}
	defer rows.Close()
	return storekit.ScanStepCountList(rows)
}
