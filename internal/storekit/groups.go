package storekit

import (
	"context"
	"fmt"

	"github.com/expt-logger/expt"
)

// RolloutGroups returns a page of (step, mode, prompt) groups with reward stats.
func (s Common) RolloutGroups(ctx context.Context, q expt.GroupQuery) ([]*expt.RolloutGroup, bool, error) {
	if q.Offset < 0 || q.Limit < 0 {
		return nil, false, expt.Errorf(expt.EINVALID, "offset and limit must not be negative")
	}
	pk, err := s.pk(ctx, q.ExperimentID)
	if err != nil {
		return nil, false, err
	}
	limit := Limit(q.Limit)
	if _, ok := SearchTerms(q.Search); !ok {
		return s.storedGroups(ctx, pk, q, limit)
	}
	// With a search, groups cover only the matching rollouts: those are
	// found and grouped here.
	f := s.e.RolloutFilter(pk, q.Mode, q.Step, q.FromStep, q.ToStep, q.Search)
	c := s.e.Collate
	return SearchGroups(ctx, s.e.Read, f, `GROUP BY r.step, r.mode, p.text, p.grp ORDER BY r.step, p.text`+c+`, p.grp`+c+`, r.mode`+c, limit, q.Offset)
}

// storedGroups answers RolloutGroups without a search from rollout_groups
// and group_rewards, kept up to date at insert: a page costs the groups of
// its steps, not every rollout of the experiment. One read snapshot serves
// the groups and their rewards.
func (s Common) storedGroups(ctx context.Context, pk int64, q expt.GroupQuery, limit int) ([]*expt.RolloutGroup, bool, error) {
	var page *StoredGroups
	c := s.e.Collate
	err := s.e.ReadTx(ctx, func(tx Conn) error {
		f := NewWhere(tx.Dollar())
		f.Add(`g.experiment = ` + f.Bind(pk))
		if q.Mode != "" {
			f.Add(`g.mode = ` + f.Bind(q.Mode))
		}
		f.Steps(`g.step`, q.Step, q.FromStep, q.ToStep)
		lim, off := f.Bind(limit+1), f.Bind(q.Offset)
		// The primary key gives step order; only each step's groups are
		// sorted by prompt text, and the scan stops once the page is full.
		rows, err := tx.Query(ctx, `SELECT g.step, g.mode, p.text, p.grp, g.count, g.prompt_id FROM rollout_groups g JOIN prompts p ON p.id = g.prompt_id
			WHERE `+f.SQL()+` ORDER BY g.step, p.text`+c+`, p.grp`+c+`, g.mode`+c+` LIMIT `+lim+` OFFSET `+off, f.Args...)
		if err != nil {
			return fmt.Errorf("select groups: %w", err)
		}
		page, err = ScanStoredGroups(rows, limit)
		rows.Close()
		if err != nil || len(page.Groups) == 0 {
			return err
		}
		w := NewWhere(tx.Dollar())
		w.Add(`g.experiment = ` + w.Bind(pk) + ` AND g.step BETWEEN ` + w.Bind(page.FirstStep()) + ` AND ` + w.Bind(page.LastStep()))
		w.Add(In(w, `g.prompt_id`, page.Prompts))
		rows, err = tx.Query(ctx, `SELECT g.step, g.prompt_id, g.mode, n.name, g.count, g.nans, g.sum, g.m2, g.min, g.max
			FROM group_rewards g JOIN reward_names n ON n.id = g.name_id
			WHERE `+w.SQL()+` ORDER BY n.name`+c, w.Args...)
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
