package storekit

import (
	"fmt"
	"math"

	"github.com/expt-logger/expt"
)

// ScanGroups reads groups from rows of (step, mode, prompt text, count).
func ScanGroups(rows Rows) ([]*expt.RolloutGroup, error) {
	groups := []*expt.RolloutGroup{}
	for rows.Next() {
		g := &expt.RolloutGroup{}
		if err := rows.Scan(&g.Step, &g.Mode, &g.Prompt, &g.Group, &g.Count); err != nil {
			return nil, fmt.Errorf("scan group: %w", err)
		}
		groups = append(groups, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select groups: %w", err)
	}
	return groups, nil
}

// StoredGroups is a page of groups read from the stored group tables, to
// which ScanRewards adds each group's stored reward moments.
type StoredGroups struct {
	Groups  []*expt.RolloutGroup
	More    bool
	Prompts []int64 // the page's prompt ids, for the query of its rewards
	byKey   map[GroupKey]*expt.RolloutGroup
}

// ScanStoredGroups reads up to limit groups (and notes whether one more
// followed) from rows of (step, mode, prompt text, group id, count, prompt id).
func ScanStoredGroups(rows Rows, limit int) (*StoredGroups, error) {
	p := &StoredGroups{Groups: []*expt.RolloutGroup{}, byKey: map[GroupKey]*expt.RolloutGroup{}}
	for rows.Next() {
		g := &expt.RolloutGroup{Rewards: []expt.RewardStats{}}
		var prompt int64
		if err := rows.Scan(&g.Step, &g.Mode, &g.Prompt, &g.Group, &g.Count, &prompt); err != nil {
			return nil, fmt.Errorf("scan group: %w", err)
		}
		if len(p.Groups) == limit {
			p.More = true
			continue
		}
		p.Groups = append(p.Groups, g)
		p.byKey[GroupKey{g.Mode, g.Step, prompt}] = g
		p.Prompts = append(p.Prompts, prompt)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select groups: %w", err)
	}
	return p, nil
}

// FirstStep and LastStep bound the page's steps; the page is not empty.
func (p *StoredGroups) FirstStep() int64 { return p.Groups[0].Step }
func (p *StoredGroups) LastStep() int64  { return p.Groups[len(p.Groups)-1].Step }

// ScanRewards reads rows of (step, prompt id, mode, reward name, count, nans,
// sum, m2, min, max), in reward name order, onto the page's groups; rows of
// other groups of the same steps are skipped. A NULL or NaN sum or m2 (from
// infinities) gives a NaN mean or std, as a brute-force sum would.
func (p *StoredGroups) ScanRewards(rows Rows) error {
	for rows.Next() {
		var k GroupKey
		var rs expt.RewardStats
		var sum, m2, lo, hi *float64
		if err := rows.Scan(&k.Step, &k.Prompt, &k.Mode, &rs.Name, &rs.Count, &rs.NaNs, &sum, &m2, &lo, &hi); err != nil {
			return fmt.Errorf("scan group reward: %w", err)
		}
		g, ok := p.byKey[k]
		if !ok {
			continue
		}
		if rs.Count > 0 {
			rs.Mean = Value(sum) / float64(rs.Count)
			rs.Std = math.Sqrt(max(0, Value(m2)) / float64(rs.Count))
			rs.Min, rs.Max = Value(lo), Value(hi)
		}
		g.Rewards = append(g.Rewards, rs)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("select group rewards: %w", err)
	}
	return nil
}

// StepTable builds per-step reward summaries from the stored step tables.
type StepTable struct {
	Steps []expt.StepRewards
	index map[StepKey]int
}

// ScanStepCounts reads rows of (mode, step, count), in step order.
func ScanStepCounts(rows Rows) (*StepTable, error) {
	t := &StepTable{Steps: []expt.StepRewards{}, index: map[StepKey]int{}}
	for rows.Next() {
		var s expt.StepRewards
		if err := rows.Scan(&s.Mode, &s.Step, &s.Count); err != nil {
			return nil, fmt.Errorf("scan step count: %w", err)
		}
		s.Rewards = []expt.RewardStats{}
		t.index[StepKey{s.Mode, s.Step}] = len(t.Steps)
		t.Steps = append(t.Steps, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select step counts: %w", err)
	}
	return t, nil
}

// ScanRewards reads rows of (mode, step, reward name, count, nans, sum,
// sumsq, min, max), in reward name order, onto the steps.
func (t *StepTable) ScanRewards(rows Rows) error {
	for rows.Next() {
		var k StepKey
		var rs expt.RewardStats
		var sum, sumsq, lo, hi *float64 // a NULL sum is NaN (+Inf and -Inf at one step)
		if err := rows.Scan(&k.Mode, &k.Step, &rs.Name, &rs.Count, &rs.NaNs, &sum, &sumsq, &lo, &hi); err != nil {
			return fmt.Errorf("scan step reward: %w", err)
		}
		if rs.Count > 0 {
			rs.Mean = Value(sum) / float64(rs.Count)
			// Population variance from running sums; clamped because
			// rounding can make it slightly negative.
			rs.Std = math.Sqrt(max(0, Value(sumsq)/float64(rs.Count)-rs.Mean*rs.Mean))
			rs.Min, rs.Max = Value(lo), Value(hi)
		}
		if i, ok := t.index[k]; ok {
			t.Steps[i].Rewards = append(t.Steps[i].Rewards, rs)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("select step rewards: %w", err)
	}
	return nil
}

// ScanStepCountList reads rows of (mode, step, count).
func ScanStepCountList(rows Rows) ([]expt.StepCount, error) {
	out := []expt.StepCount{}
	for rows.Next() {
		var s expt.StepCount
		if err := rows.Scan(&s.Mode, &s.Step, &s.Count); err != nil {
			return nil, fmt.Errorf("scan rollout step: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select rollout steps: %w", err)
	}
	return out, nil
}
