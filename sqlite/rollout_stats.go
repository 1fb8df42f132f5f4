package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"

	"github.com/expt-logger/expt"
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
	limit := q.Limit
	if limit == 0 {
		limit = 50
	}
	if _, ok := ftsQuery(q.Search); !ok {
		return db.storedGroups(ctx, pk, q, limit)
	}
	// With a search, groups cover only the matching rollouts: those are
	// found and grouped here.
	f := db.baseFilter(pk, q.Mode, q.Step, q.FromStep, q.ToStep, q.Search)
	rows, err := db.read.QueryContext(ctx, `SELECT r.step, r.mode, p.text, count(*) FROM rollouts r JOIN prompts p ON p.id = r.prompt_id
		WHERE `+f.sql()+` GROUP BY r.step, r.mode, p.text ORDER BY r.step, p.text, r.mode LIMIT ? OFFSET ?`,
		append(f.args, limit+1, q.Offset)...)
	if err != nil {
		return nil, false, ftsError(fmt.Errorf("select groups: %w", err))
	}
	groups := []*expt.RolloutGroup{}
	for rows.Next() {
		g := &expt.RolloutGroup{}
		if err := rows.Scan(&g.Step, &g.Mode, &g.Prompt, &g.Count); err != nil {
			rows.Close()
			return nil, false, fmt.Errorf("scan group: %w", err)
		}
		groups = append(groups, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, false, ftsError(fmt.Errorf("select groups: %w", err))
	}
	more := len(groups) > limit
	if more {
		groups = groups[:limit]
	}
	if err := db.groupRewards(ctx, f, groups); err != nil {
		return nil, false, ftsError(err)
	}
	return groups, more, nil
}

type groupKey struct {
	step         int64
	mode, prompt string
}

// groupRewards sets exact reward stats on a page of groups with one query
// over the page's step range (rollouts matching the same filter), rather
// than one query per group.
func (db *DB) groupRewards(ctx context.Context, f *rolloutFilter, groups []*expt.RolloutGroup) error {
	if len(groups) == 0 {
		return nil
	}
	vals := map[groupKey]map[string][]float64{}
	for _, g := range groups {
		vals[groupKey{g.Step, g.Mode, g.Prompt}] = map[string][]float64{}
	}
	args := append(append([]any{}, f.args...), groups[0].Step, groups[len(groups)-1].Step)
	rows, err := db.read.QueryContext(ctx, `SELECT r.step, r.mode, p.text, n.name, w.value FROM rollouts r JOIN prompts p ON p.id = r.prompt_id
		JOIN rewards w ON w.rollout_id = r.id JOIN reward_names n ON n.id = w.name_id
		WHERE `+f.sql()+` AND r.step BETWEEN ? AND ?`, args...)
	if err != nil {
		return fmt.Errorf("select group rewards: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k groupKey
		var name string
		var v sql.NullFloat64
		if err := rows.Scan(&k.step, &k.mode, &k.prompt, &name, &v); err != nil {
			return fmt.Errorf("scan group reward: %w", err)
		}
		byName, ok := vals[k]
		if !ok {
			continue // a group of the same steps on another page
		}
		if !v.Valid {
			v.Float64 = math.NaN()
		}
		byName[name] = append(byName[name], v.Float64)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("select group rewards: %w", err)
	}
	for _, g := range groups {
		byName := vals[groupKey{g.Step, g.Mode, g.Prompt}]
		names := make([]string, 0, len(byName))
		for n := range byName {
			names = append(names, n)
		}
		sort.Strings(names)
		g.Rewards = make([]expt.RewardStats, len(names))
		for i, n := range names {
			g.Rewards[i] = expt.RewardStatsOf(n, byName[n])
		}
	}
	return nil
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
	out := []expt.StepRewards{}
	index := map[stepKey]int{}
	for rows.Next() {
		var s expt.StepRewards
		if err := rows.Scan(&s.Mode, &s.Step, &s.Count); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan step count: %w", err)
		}
		s.Rewards = []expt.RewardStats{}
		index[stepKey{s.Mode, s.Step}] = len(out)
		out = append(out, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select step counts: %w", err)
	}
	rows, err = tx.QueryContext(ctx, `SELECT s.mode, s.step, n.name, s.count, s.nans, s.sum, s.sumsq, s.min, s.max
		FROM step_rewards s JOIN reward_names n ON n.id = s.name_id WHERE s.`+cond+` ORDER BY n.name`, args...)
	if err != nil {
		return nil, fmt.Errorf("select step rewards: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k stepKey
		var rs expt.RewardStats
		var sum, sumsq float64
		var lo, hi sql.NullFloat64
		if err := rows.Scan(&k.mode, &k.step, &rs.Name, &rs.Count, &rs.NaNs, &sum, &sumsq, &lo, &hi); err != nil {
			return nil, fmt.Errorf("scan step reward: %w", err)
		}
		if rs.Count > 0 {
			rs.Mean = sum / float64(rs.Count)
			// Population variance from running sums; clamped because
			// rounding can make it slightly negative.
			rs.Std = math.Sqrt(max(0, sumsq/float64(rs.Count)-rs.Mean*rs.Mean))
			rs.Min, rs.Max = lo.Float64, hi.Float64
		}
		if i, ok := index[k]; ok {
			out[i].Rewards = append(out[i].Rewards, rs)
		}
	}
	return out, rows.Err()
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
	out := []expt.StepCount{}
	for rows.Next() {
		var s expt.StepCount
		if err := rows.Scan(&s.Mode, &s.Step, &s.Count); err != nil {
			return nil, fmt.Errorf("scan rollout step: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
