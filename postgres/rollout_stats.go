package postgres

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/jackc/pgx/v5"

	"github.com/expt-logger/expt"
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
	limit := q.Limit
	if limit == 0 {
		limit = 50
	}
	if _, ok := searchTerms(q.Search); !ok {
		return db.storedGroups(ctx, pk, q, limit)
	}
	// With a search, groups cover only the matching rollouts: those are
	// found and grouped here.
	f := baseFilter(pk, q.Mode, q.Step, q.FromStep, q.ToStep, q.Search)
	g := f.clone()
	lim, off := g.bind(limit+1), g.bind(q.Offset)
	rows, err := db.pool.Query(ctx, `SELECT r.step, r.mode, p.text, count(*) FROM rollouts r JOIN prompts p ON p.id = r.prompt_id
		WHERE `+g.sql()+` GROUP BY r.step, r.mode, p.id ORDER BY r.step, p.text COLLATE "C", r.mode COLLATE "C" LIMIT `+lim+` OFFSET `+off, g.args...)
	if err != nil {
		return nil, false, searchError(fmt.Errorf("select groups: %w", err))
	}
	groups, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*expt.RolloutGroup, error) {
		g := &expt.RolloutGroup{}
		err := r.Scan(&g.Step, &g.Mode, &g.Prompt, &g.Count)
		return g, err
	})
	if err != nil {
		return nil, false, searchError(fmt.Errorf("select groups: %w", err))
	}
	more := len(groups) > limit
	if more {
		groups = groups[:limit]
	}
	if err := db.groupRewards(ctx, f, groups); err != nil {
		return nil, false, searchError(err)
	}
	return groups, more, nil
}

type groupKey struct {
	step         int64
	mode, prompt string
}

// groupRewards sets exact reward stats on a page of groups with one query
// over the page's step range (rollouts matching the same filter).
func (db *DB) groupRewards(ctx context.Context, f *rolloutFilter, groups []*expt.RolloutGroup) error {
	if len(groups) == 0 {
		return nil
	}
	vals := map[groupKey]map[string][]float64{}
	for _, g := range groups {
		vals[groupKey{g.Step, g.Mode, g.Prompt}] = map[string][]float64{}
	}
	f = f.clone()
	lo, hi := f.bind(groups[0].Step), f.bind(groups[len(groups)-1].Step)
	rows, err := db.pool.Query(ctx, `SELECT r.step, r.mode, p.text, n.name, w.value FROM rollouts r JOIN prompts p ON p.id = r.prompt_id
		JOIN rewards w ON w.rollout_id = r.id JOIN reward_names n ON n.id = w.name_id
		WHERE `+f.sql()+` AND r.step BETWEEN `+lo+` AND `+hi, f.args...)
	if err != nil {
		return fmt.Errorf("select group rewards: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k groupKey
		var name string
		var v *float64
		if err := rows.Scan(&k.step, &k.mode, &k.prompt, &name, &v); err != nil {
			return fmt.Errorf("scan group reward: %w", err)
		}
		byName, ok := vals[k]
		if !ok {
			continue // a group of the same steps on another page
		}
		val := math.NaN()
		if v != nil {
			val = *v
		}
		byName[name] = append(byName[name], val)
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

// storedGroups answers RolloutGroups without a search from rollout_groups
// and group_rewards, kept up to date at insert.
func (db *DB) storedGroups(ctx context.Context, pk int64, q expt.GroupQuery, limit int) ([]*expt.RolloutGroup, bool, error) {
	f := &rolloutFilter{}
	f.add(`g.experiment = ` + f.bind(pk))
	if q.Mode != "" {
		f.add(`g.mode = ` + f.bind(q.Mode))
	}
	if q.Step != nil {
		f.add(`g.step = ` + f.bind(*q.Step))
	}
	if q.FromStep != nil {
		f.add(`g.step >= ` + f.bind(*q.FromStep))
	}
	if q.ToStep != nil {
		f.add(`g.step <= ` + f.bind(*q.ToStep))
	}
	lim, off := f.bind(limit+1), f.bind(q.Offset)
	type key struct {
		step, prompt int64
		mode         string
	}
	var groups []*expt.RolloutGroup
	var more bool
	err := db.tx(ctx, readOnly, func(tx pgx.Tx) error {
		groups = []*expt.RolloutGroup{}
		rows, err := tx.Query(ctx, `SELECT g.step, g.mode, p.text, g.count, g.prompt_id FROM rollout_groups g JOIN prompts p ON p.id = g.prompt_id
			WHERE `+f.sql()+` ORDER BY g.step, p.text COLLATE "C", g.mode COLLATE "C" LIMIT `+lim+` OFFSET `+off, f.args...)
		if err != nil {
			return fmt.Errorf("select groups: %w", err)
		}
		byKey := map[key]*expt.RolloutGroup{}
		var prompts []int64
		for rows.Next() {
			g := &expt.RolloutGroup{Rewards: []expt.RewardStats{}}
			var promptID int64
			if err := rows.Scan(&g.Step, &g.Mode, &g.Prompt, &g.Count, &promptID); err != nil {
				rows.Close()
				return fmt.Errorf("scan group: %w", err)
			}
			groups = append(groups, g)
			if len(groups) <= limit {
				byKey[key{g.Step, promptID, g.Mode}] = g
				prompts = append(prompts, promptID)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("select groups: %w", err)
		}
		more = len(groups) > limit
		if more {
			groups = groups[:limit]
		}
		if len(groups) == 0 {
			return nil
		}
		rows, err = tx.Query(ctx, `SELECT g.step, g.prompt_id, g.mode, n.name, g.count, g.nans, g.sum, g.m2, g.min, g.max
			FROM group_rewards g JOIN reward_names n ON n.id = g.name_id
			WHERE g.experiment = $1 AND g.step BETWEEN $2 AND $3 AND g.prompt_id = ANY($4)
			ORDER BY n.name COLLATE "C"`, pk, groups[0].Step, groups[len(groups)-1].Step, prompts)
		if err != nil {
			return fmt.Errorf("select group rewards: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var k key
			var rs expt.RewardStats
			var sum, m2 float64
			var lo, hi *float64
			if err := rows.Scan(&k.step, &k.prompt, &k.mode, &rs.Name, &rs.Count, &rs.NaNs, &sum, &m2, &lo, &hi); err != nil {
				return fmt.Errorf("scan group reward: %w", err)
			}
			g, ok := byKey[k]
			if !ok {
				continue // another group of the page's steps
			}
			if rs.Count > 0 {
				rs.Mean = sum / float64(rs.Count)
				rs.Std = math.Sqrt(max(0, m2) / float64(rs.Count))
				rs.Min, rs.Max = *lo, *hi
			}
			g.Rewards = append(g.Rewards, rs)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, false, err
	}
	return groups, more, nil
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
	var out []expt.StepRewards
	err = db.tx(ctx, readOnly, func(tx pgx.Tx) error {
		out = []expt.StepRewards{}
		rows, err := tx.Query(ctx, `SELECT mode, step, count FROM step_counts WHERE `+cond+` ORDER BY step, mode COLLATE "C"`, args...)
		if err != nil {
			return fmt.Errorf("select step counts: %w", err)
		}
		index := map[stepKey]int{}
		for rows.Next() {
			var s expt.StepRewards
			if err := rows.Scan(&s.Mode, &s.Step, &s.Count); err != nil {
				rows.Close()
				return fmt.Errorf("scan step count: %w", err)
			}
			s.Rewards = []expt.RewardStats{}
			index[stepKey{s.Mode, s.Step}] = len(out)
			out = append(out, s)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("select step counts: %w", err)
		}
		rows, err = tx.Query(ctx, `SELECT s.mode, s.step, n.name, s.count, s.nans, s.sum, s.sumsq, s.min, s.max
			FROM step_rewards s JOIN reward_names n ON n.id = s.name_id WHERE s.`+cond+` ORDER BY n.name COLLATE "C"`, args...)
		if err != nil {
			return fmt.Errorf("select step rewards: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var k stepKey
			var rs expt.RewardStats
			var sum, sumsq float64
			var lo, hi *float64
			if err := rows.Scan(&k.mode, &k.step, &rs.Name, &rs.Count, &rs.NaNs, &sum, &sumsq, &lo, &hi); err != nil {
				return fmt.Errorf("scan step reward: %w", err)
			}
			if rs.Count > 0 {
				rs.Mean = sum / float64(rs.Count)
				// Population variance from running sums; clamped because
				// rounding can make it slightly negative.
				rs.Std = math.Sqrt(max(0, sumsq/float64(rs.Count)-rs.Mean*rs.Mean))
				rs.Min, rs.Max = *lo, *hi
			}
			if i, ok := index[k]; ok {
				out[i].Rewards = append(out[i].Rewards, rs)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
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
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (expt.StepCount, error) {
		var s expt.StepCount
		err := r.Scan(&s.Mode, &s.Step, &s.Count)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("select rollout steps: %w", err)
	}
	return out, nil
}
