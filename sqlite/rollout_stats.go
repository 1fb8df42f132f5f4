package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/internal/storekit"
)

// RolloutGroups returns a page of (step, mode, prompt) groups with reward stats.
func (db *DB) RolloutGroups(ctx context.Context, q expt.GroupQuery) ([]*expt.RolloutGroup, bool, error) {
	if q.Offset < 0 || q.Limit < 0 {
		return nil, false, expt.Errorf(expt.EINVALID, "offset and limit must not be negative")
	}
	pk, err := db.experimentPK(ctx, db.read, q.ExperimentID)
	if err != nil {
		return nil, false, err
	}
	limit := storekit.Limit(q.Limit)
	if _, ok := ftsQuery(q.Search); !ok {
		return db.storedGroups(ctx, pk, q, limit)
	}
	// With a search, groups cover only the matching rollouts: those are
	// found and grouped here.
	f := baseFilter(pk, q.Mode, q.Step, q.FromStep, q.ToStep, q.Search)
	rows, err := db.read.QueryContext(ctx, `SELECT r.step, r.mode, p.text, count(*) FROM rollouts r JOIN prompts p ON p.id = r.prompt_id
		WHERE `+f.SQL()+` GROUP BY r.step, r.mode, p.text ORDER BY r.step, p.text, r.mode LIMIT ? OFFSET ?`,
		append(f.Args, limit+1, q.Offset)...)
	if err != nil {
		return nil, false, ftsError(fmt.Errorf("select groups: %w", err))
	}
	groups, err := storekit.ScanGroups(rows)
	rows.Close()
	if err != nil {
		return nil, false, ftsError(err)
	}
	groups, more := storekit.Page(groups, limit)
	if err := db.groupRewards(ctx, f, groups); err != nil {
		return nil, false, ftsError(err)
	}
	return groups, more, nil
}

// groupRewards sets exact reward stats on a page of groups with one query
// over the page's step range (rollouts matching the same filter), rather
// than one query per group.
func (db *DB) groupRewards(ctx context.Context, f *rolloutFilter, groups []*expt.RolloutGroup) error {
	if len(groups) == 0 {
		return nil
	}
	f = f.Clone()
	lo, hi := f.Bind(groups[0].Step), f.Bind(groups[len(groups)-1].Step)
	rows, err := db.read.QueryContext(ctx, `SELECT r.step, r.mode, p.text, n.name, w.value FROM rollouts r JOIN prompts p ON p.id = r.prompt_id
		JOIN rewards w ON w.rollout_id = r.id JOIN reward_names n ON n.id = w.name_id
		WHERE `+f.SQL()+` AND r.step BETWEEN `+lo+` AND `+hi, f.Args...)
	if err != nil {
		return fmt.Errorf("select group rewards: %w", err)
	}
	defer rows.Close()
	return storekit.GroupRewards(rows, groups)
}

// StepRewards returns per-step reward summaries from the incrementally
// maintained step tables.
func (db *DB) StepRewards(ctx context.Context, experimentID, mode string) ([]expt.StepRewards, error) {
	pk, err := db.experimentPK(ctx, db.read, experimentID)
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
	pk, err := db.experimentPK(ctx, db.read, experimentID)
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
