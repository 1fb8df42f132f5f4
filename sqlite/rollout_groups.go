package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"

	"github.com/expt-logger/expt"
)

// storedGroups answers RolloutGroups without a search from rollout_groups
// and group_rewards, kept up to date at insert: a page costs the groups
// of its steps, not every rollout of the experiment.
func (db *DB) storedGroups(ctx context.Context, pk int64, q expt.GroupQuery, limit int) ([]*expt.RolloutGroup, bool, error) {
	where, args := []string{`g.experiment = ?`}, []any{pk}
	if q.Mode != "" {
		where, args = append(where, `g.mode = ?`), append(args, q.Mode)
	}
	if q.Step != nil {
		where, args = append(where, `g.step = ?`), append(args, *q.Step)
	}
	if q.FromStep != nil {
		where, args = append(where, `g.step >= ?`), append(args, *q.FromStep)
	}
	if q.ToStep != nil {
		where, args = append(where, `g.step <= ?`), append(args, *q.ToStep)
	}
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, false, fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback()
	// The primary key gives step order; only each step's groups are sorted
	// by prompt text, and the scan stops once the page is full.
	rows, err := tx.QueryContext(ctx, `SELECT g.step, g.mode, p.text, g.count, g.prompt_id FROM rollout_groups g JOIN prompts p ON p.id = g.prompt_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY g.step, p.text, g.mode LIMIT ? OFFSET ?`, append(args, limit+1, q.Offset)...)
	if err != nil {
		return nil, false, fmt.Errorf("select groups: %w", err)
	}
	type key struct {
		step, prompt int64
		mode         string
	}
	groups := []*expt.RolloutGroup{}
	byKey := map[key]*expt.RolloutGroup{}
	var prompts []any
	for rows.Next() {
		g := &expt.RolloutGroup{Rewards: []expt.RewardStats{}}
		var promptID int64
		if err := rows.Scan(&g.Step, &g.Mode, &g.Prompt, &g.Count, &promptID); err != nil {
			rows.Close()
			return nil, false, fmt.Errorf("scan group: %w", err)
		}
		groups = append(groups, g)
		if len(groups) <= limit {
			byKey[key{g.Step, promptID, g.Mode}] = g
			prompts = append(prompts, promptID)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("select groups: %w", err)
	}
	more := len(groups) > limit
	if more {
		groups = groups[:limit]
	}
	if len(groups) == 0 {
		return groups, more, nil
	}
	args = append([]any{pk, groups[0].Step, groups[len(groups)-1].Step}, prompts...)
	rows, err = tx.QueryContext(ctx, `SELECT g.step, g.prompt_id, g.mode, n.name, g.count, g.nans, g.sum, g.m2, g.min, g.max
		FROM group_rewards g JOIN reward_names n ON n.id = g.name_id
		WHERE g.experiment = ? AND g.step BETWEEN ? AND ? AND g.prompt_id IN (`+strings.TrimSuffix(strings.Repeat("?,", len(prompts)), ",")+`)
		ORDER BY n.name`, args...)
	if err != nil {
		return nil, false, fmt.Errorf("select group rewards: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k key
		var rs expt.RewardStats
		var sum, m2, lo, hi sql.NullFloat64
		if err := rows.Scan(&k.step, &k.prompt, &k.mode, &rs.Name, &rs.Count, &rs.NaNs, &sum, &m2, &lo, &hi); err != nil {
			return nil, false, fmt.Errorf("scan group reward: %w", err)
		}
		g, ok := byKey[k]
		if !ok {
			continue // another group of the page's steps
		}
		if rs.Count > 0 {
			// NULL is NaN (from infinities), as a brute-force sum would give.
			rs.Mean, rs.Std = math.NaN(), math.NaN()
			if sum.Valid {
				rs.Mean = sum.Float64 / float64(rs.Count)
			}
			if m2.Valid {
				rs.Std = math.Sqrt(max(0, m2.Float64) / float64(rs.Count))
			}
			rs.Min, rs.Max = lo.Float64, hi.Float64
		}
		g.Rewards = append(g.Rewards, rs)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("select group rewards: %w", err)
	}
	return groups, more, nil
}
