package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/internal/storekit"
)

// StepRewards returns per-step reward summaries from the incrementally
// maintained step tables.
func (db *DB) StepRewards(ctx context.Context, experimentID, mode string) ([]expt.StepRewards, error) {
	pk, err := experimentPK(ctx, db.rd, experimentID)
	if err != nil {
		return nil, err
	}
	cond, args := `experiment = $1`, []any{pk}
	if mode != "" {
		cond, args = cond+` AND mode = $2`, append(args, mode)
	}
	var table *storekit.StepTable
	err = db.tx(ctx, readOnly, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT mode, step, count FROM step_counts WHERE `+cond+` ORDER BY step, mode COLLATE "C"`, args...)
		if err != nil {
			return fmt.Errorf("select step counts: %w", err)
		}
		table, err = storekit.ScanStepCounts(rows)
		rows.Close()
		if err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT s.mode, s.step, n.name, s.count, s.nans, s.sum, s.sumsq, s.min, s.max
			FROM step_rewards s JOIN reward_names n ON n.id = s.name_id WHERE s.`+cond+` ORDER BY n.name COLLATE "C"`, args...)
		if err != nil {
			return fmt.Errorf("select step rewards: %w", err)
		}
		defer rows.Close()
		return table.ScanRewards(rows)
	})
	if err != nil {
		return nil, err
	}
	return table.Steps, nil
}

// RolloutSteps lists the steps that have rollouts, by mode then step.
func (db *DB) RolloutSteps(ctx context.Context, experimentID string) ([]expt.StepCount, error) {
	pk, err := experimentPK(ctx, db.rd, experimentID)
	if err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, `SELECT mode, step, count FROM step_counts WHERE experiment = $1 ORDER BY mode COLLATE "C", step`, pk)
	if err != nil {
		return nil, fmt.Errorf("select rollout steps: %w", err)
	}
	defer rows.Close()
	return storekit.ScanStepCountList(rows)
}
