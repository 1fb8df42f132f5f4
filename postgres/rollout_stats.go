package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/internal/storekit"
)

// RolloutGroups returns a page of (step, mode, prompt) groups with reward stats.
func (db *DB) RolloutGroups(ctx context.Context, q expt.GroupQuery) ([]*expt.RolloutGroup, bool, error) {
	if q.Offset < 0 || q.Limit < 0 {
		return nil, false, expt.Errorf(expt.EINVALID, "offset and limit must not be negative")
	}
	pk, err := experimentPK(ctx, db.pool, q.ExperimentID)
	if err != nil {
		return nil, false, err
	}
	limit := storekit.Limit(q.Limit)
	if _, ok := storekit.SearchTerms(q.Search); !ok {
		return db.storedGroups(ctx, pk, q, limit)
	}
	// With a search, groups cover only the matching rollouts: those are
	// found and grouped here.
	f := baseFilter(pk, q.Mode, q.Step, q.FromStep, q.ToStep, q.Search)
	g := f.Clone()
	lim, off := g.Bind(limit+1), g.Bind(q.Offset)
	rows, err := db.pool.Query(ctx, `SELECT r.step, r.mode, p.text, count(*) FROM rollouts r JOIN prompts p ON p.id = r.prompt_id
		WHERE `+g.SQL()+` GROUP BY r.step, r.mode, p.id ORDER BY r.step, p.text COLLATE "C", r.mode COLLATE "C" LIMIT `+lim+` OFFSET `+off, g.Args...)
	if err != nil {
		return nil, false, searchError(fmt.Errorf("select groups: %w", err))
	}
	groups, err := storekit.ScanGroups(rows)
	rows.Close()
	if err != nil {
		return nil, false, searchError(err)
	}
	groups, more := storekit.Page(groups, limit)
	if err := db.groupRewards(ctx, f, groups); err != nil {
		return nil, false, searchError(err)
	}
	return groups, more, nil
}

// groupRewards sets exact reward stats on a page of groups with one query
// over the page's step range (rollouts matching the same filter).
func (db *DB) groupRewards(ctx context.Context, f *rolloutFilter, groups []*expt.RolloutGroup) error {
	if len(groups) == 0 {
		return nil
	}
	f = f.Clone()
	lo, hi := f.Bind(groups[0].Step), f.Bind(groups[len(groups)-1].Step)
	rows, err := db.pool.Query(ctx, `SELECT r.step, r.mode, p.text, n.name, w.value FROM rollouts r JOIN prompts p ON p.id = r.prompt_id
		JOIN rewards w ON w.rollout_id = r.id JOIN reward_names n ON n.id = w.name_id
		WHERE `+f.SQL()+` AND r.step BETWEEN `+lo+` AND `+hi, f.Args...)
	if err != nil {
		return fmt.Errorf("select group rewards: %w", err)
	}
	defer rows.Close()
	return storekit.GroupRewards(rows, groups)
}

// storedGroups answers RolloutGroups without a search from rollout_groups
// and group_rewards, kept up to date at insert.
func (db *DB) storedGroups(ctx context.Context, pk int64, q expt.GroupQuery, limit int) ([]*expt.RolloutGroup, bool, error) {
	f := storekit.NewWhere(true)
	f.Add(`g.experiment = ` + f.Bind(pk))
	if q.Mode != "" {
		f.Add(`g.mode = ` + f.Bind(q.Mode))
	}
	f.Steps(`g.step`, q.Step, q.FromStep, q.ToStep)
	lim, off := f.Bind(limit+1), f.Bind(q.Offset)
	var page *storekit.StoredGroups
	err := db.tx(ctx, readOnly, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT g.step, g.mode, p.text, g.count, g.prompt_id FROM rollout_groups g JOIN prompts p ON p.id = g.prompt_id
			WHERE `+f.SQL()+` ORDER BY g.step, p.text COLLATE "C", g.mode COLLATE "C" LIMIT `+lim+` OFFSET `+off, f.Args...)
		if err != nil {
			return fmt.Errorf("select groups: %w", err)
		}
		page, err = storekit.ScanStoredGroups(rows, limit)
		rows.Close()
		if err != nil || len(page.Groups) == 0 {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT g.step, g.prompt_id, g.mode, n.name, g.count, g.nans, g.sum, g.m2, g.min, g.max
			FROM group_rewards g JOIN reward_names n ON n.id = g.name_id
			WHERE g.experiment = $1 AND g.step BETWEEN $2 AND $3 AND g.prompt_id = ANY($4)
			ORDER BY n.name COLLATE "C"`, pk, page.FirstStep(), page.LastStep(), page.Prompts)
		if err != nil {
			return fmt.Errorf("select group rewards: %w", err)
		}
		defer rows.Close()
		return page.ScanRewards(rows)
	})
	if err != nil {
		return nil, false, err
	}
	return page.Groups, page.More, nil
}

// StepRewards returns per-step reward summaries from the incrementally
// maintained step tables.
func (db *DB) StepRewards(ctx context.Context, experimentID, mode string) ([]expt.StepRewards, error) {
	pk, err := experimentPK(ctx, db.pool, experimentID)
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
	pk, err := experimentPK(ctx, db.pool, experimentID)
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
