package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/internal/storekit"
)

// storedGroups answers RolloutGroups without a search from rollout_groups
// and group_rewards, kept up to date at insert: a page costs the groups
// of its steps, not every rollout of the experiment.
func (db *DB) storedGroups(ctx context.Context, pk int64, q expt.GroupQuery, limit int) ([]*expt.RolloutGroup, bool, error) {
	f := storekit.NewWhere(false)
	f.Add(`g.experiment = ` + f.Bind(pk))
	if q.Mode != "" {
		f.Add(`g.mode = ` + f.Bind(q.Mode))
	}
	f.Steps(`g.step`, q.Step, q.FromStep, q.ToStep)
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, false, fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback()
	// The primary key gives step order; only each step's groups are sorted
	// by prompt text, and the scan stops once the page is full.
	rows, err := tx.QueryContext(ctx, `SELECT g.step, g.mode, p.text, g.count, g.prompt_id FROM rollout_groups g JOIN prompts p ON p.id = g.prompt_id
		WHERE `+f.SQL()+` ORDER BY g.step, p.text, g.mode LIMIT ? OFFSET ?`, append(f.Args, limit+1, q.Offset)...)
	if err != nil {
		return nil, false, fmt.Errorf("select groups: %w", err)
	}
	page, err := storekit.ScanStoredGroups(rows, limit)
	rows.Close()
	if err != nil {
		return nil, false, err
	}
	if len(page.Groups) == 0 {
		return page.Groups, false, nil
	}
	w := storekit.NewWhere(false)
	w.Add(`g.experiment = ` + w.Bind(pk) + ` AND g.step BETWEEN ` + w.Bind(page.FirstStep()) + ` AND ` + w.Bind(page.LastStep()))
	in := storekit.BindList(w, page.Prompts)
	rows, err = tx.QueryContext(ctx, `SELECT g.step, g.prompt_id, g.mode, n.name, g.count, g.nans, g.sum, g.m2, g.min, g.max
		FROM group_rewards g JOIN reward_names n ON n.id = g.name_id
		WHERE `+w.SQL()+` AND g.prompt_id IN (`+in+`) ORDER BY n.name`, w.Args...)
	if err != nil {
		return nil, false, fmt.Errorf("select group rewards: %w", err)
	}
	defer rows.Close()
	return page.Groups, page.More, page.ScanRewards(rows)
}
