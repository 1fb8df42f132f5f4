package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/internal/storekit"
)

const rolloutColumns = `r.id, r.step, r.mode, p.text, p.raw, r.messages, r.ts, r.created_at, r.client_id, r.metadata, p.grp`

// baseFilter is the conditions every rollout query may have.
func baseFilter(pk int64, mode string, step, from, to *int64, search string) *storekit.Where {
	f := storekit.RolloutWhere(false, pk, mode, step, from, to)
	addSearch(f, search, nil)
	return f
}

// addSearch adds the full-text condition, if search has a searchable term.
// ids, when known, bounds the ids of the rollouts the other conditions
// leave: the index then reads only that stretch of each word's rollouts
// instead of all of them (a common word is in most of 1M rollouts).
func addSearch(f *storekit.Where, search string, ids *[2]int64) {
	q, ok := ftsQuery(search)
	switch {
	case !ok:
	case ids != nil:
		f.Add(`r.id IN (SELECT rowid FROM rollouts_fts WHERE rollouts_fts MATCH ` + f.Bind(q) + ` AND rowid BETWEEN ` + f.Bind(ids[0]) + ` AND ` + f.Bind(ids[1]) + `)`)
	default:
		f.Add(`r.id IN (SELECT rowid FROM rollouts_fts WHERE rollouts_fts MATCH ` + f.Bind(q) + `)`)
	}
}

// rewardNameID finds a reward name of an experiment; ok is false when unknown.
func (db *DB) rewardNameID(ctx context.Context, pk int64, name string) (int64, bool, error) {
	return db.cache.rewards.Load(pk, name, func() (int64, bool, error) {
		return storekit.QueryID(ctx, db.rd, "reward name", `SELECT id FROM reward_names WHERE experiment = ? AND name = ?`, pk, name)
	})
}

// Rollouts returns a page of rollouts and whether more follow.
func (db *DB) Rollouts(ctx context.Context, q expt.RolloutQuery) ([]*expt.Rollout, bool, error) {
	sortReward, err := q.Check()
	if err != nil {
		return nil, false, err
	}
	pk, err := db.experimentPK(ctx, db.rd, q.ExperimentID)
	if err != nil {
		return nil, false, err
	}
	limit := storekit.Limit(q.Limit)
	// A sort by reward over few rollouts (a step's, a prompt's) sorts them
	// itself; ids bounds them for the search.
	var few *[2]int64
	if sortReward != "" {
		if few, err = db.fewRollouts(ctx, pk, q); err != nil {
			return nil, false, err
		}
	}
	f := narrowFilter(pk, q)
	storekit.AfterID(f, q.AfterID, q.Desc)
	addSearch(f, q.Search, few)
	for _, rf := range q.Rewards {
		nid, ok, err := db.rewardNameID(ctx, pk, rf.Name)
		if err != nil {
			return nil, false, err
		}
		if !ok {
			return []*expt.Rollout{}, false, nil
		}
		// EXISTS probes the rewards primary key per candidate rollout, so a
		// page in id order stops after limit+1 matches.
		f.Add(`EXISTS (SELECT 1 FROM rewards w WHERE w.rollout_id = r.id AND w.name_id = ` + f.Bind(nid) + ` AND w.value ` + rf.Op + ` ` + f.Bind(nullable(rf.Value)) + `)`)
	}
	dir := storekit.Dir(q.Desc)
	if sortReward != "" {
		if few != nil {
			return db.rolloutsByRewardSorted(ctx, pk, q, f, sortReward, dir, limit)
		}
		return db.rolloutsByReward(ctx, pk, q, f, sortReward, dir, limit)
	}
	order := `r.id` + dir
	if q.Sort == expt.SortStep {
		order = `r.step` + dir + `, r.id` + dir
	}
	list, err := storekit.QueryRollouts(ctx, db.rd, q.ExperimentID, q.RawMessages, `SELECT `+rolloutColumns+` FROM rollouts r JOIN prompts p ON p.id = r.prompt_id`+
		` WHERE `+f.SQL()+` ORDER BY `+order+` LIMIT ? OFFSET ?`, append(f.Args, limit+1, q.Offset)...)
	if err != nil {
		return nil, false, err
	}
	list, more := storekit.Page(list, limit)
	return list, more, nil
}

// sortLimit is the most rollouts a sort by reward reads and sorts itself
// (rolloutsByRewardSorted) rather than walking the experiment's reward
// index in order (rolloutsByReward): sorting a step's thousand rollouts
// takes about a millisecond, while the walk passes every other step's
// rollouts on the way, 150 ms for a page of one step among 1M.
const sortLimit = 20000

// narrowFilter is the conditions of q on the rollouts table itself: mode,
// steps and prompt.
func narrowFilter(pk int64, q expt.RolloutQuery) *storekit.Where {
	f := baseFilter(pk, q.Mode, q.Step, q.FromStep, q.ToStep, "")
	if q.Prompt != nil || q.Group != nil {
		rows := `experiment = ` + f.Bind(pk)
		if q.Prompt != nil {
			rows += ` AND text_hash = ` + f.Bind(textHash(*q.Prompt)) + ` AND text = ` + f.Bind(*q.Prompt)
		}
		if q.Group != nil {
			rows += ` AND grp = ` + f.Bind(*q.Group)
		}
		f.Add(`r.prompt_id IN (SELECT id FROM prompts WHERE ` + rows + `)`)
	}
	return f
}

// fewRollouts returns the lowest and highest id of the rollouts that the
// step, step range or prompt of q leaves, before any search or reward
// filter, when they are at most sortLimit; else nil. Counting stops at
// sortLimit + 1, so the answer costs at most that many index entries.
func (db *DB) fewRollouts(ctx context.Context, pk int64, q expt.RolloutQuery) (*[2]int64, error) {
	if q.Step == nil && q.FromStep == nil && q.ToStep == nil && q.Prompt == nil && q.Group == nil {
		return nil, nil
	}
	f := narrowFilter(pk, q)
	var n int
	var lo, hi sql.NullInt64
	err := db.read.QueryRowContext(ctx, `SELECT count(*), min(id), max(id) FROM (SELECT r.id AS id FROM rollouts r WHERE `+f.SQL()+` LIMIT ?)`,
		append(f.Args, sortLimit+1)...).Scan(&n, &lo, &hi)
	if err != nil {
		return nil, fmt.Errorf("count rollouts to sort: %w", err)
	}
	if n > sortLimit {
		return nil, nil
	}
	return &[2]int64{lo.Int64, hi.Int64}, nil
}

// rolloutsByRewardSorted is rolloutsByReward for few rollouts: it reads
// every rollout matching f with its value of the reward and sorts them,
// ids only, then loads the page.
func (db *DB) rolloutsByRewardSorted(ctx context.Context, pk int64, q expt.RolloutQuery, f *storekit.Where, name, dir string, limit int) ([]*expt.Rollout, bool, error) {
	nid, _, err := db.rewardNameID(ctx, pk, name) // unknown: id 0 matches no reward, so all sort by id
	if err != nil {
		return nil, false, err
	}
	// NULL (missing or NaN) sorts after every value in both directions.
	order := func(v, id string) string { return v + ` IS NULL, ` + v + dir + `, ` + id + dir }
	list, err := storekit.QueryRollouts(ctx, db.rd, q.ExperimentID, q.RawMessages, `SELECT `+rolloutColumns+` FROM (
			SELECT r.id AS id, sw.value AS v FROM rollouts r LEFT JOIN rewards sw ON sw.rollout_id = r.id AND sw.name_id = ?
			WHERE `+f.SQL()+` ORDER BY `+order("sw.value", "r.id")+` LIMIT ? OFFSET ?
		) k JOIN rollouts r ON r.id = k.id JOIN prompts p ON p.id = r.prompt_id ORDER BY `+order("k.v", "k.id"),
		append(append([]any{nid}, f.Args...), limit+1, q.Offset)...)
	if err != nil {
		return nil, false, err
	}
	list, more := storekit.Page(list, limit)
	return list, more, nil
}

// rolloutsByReward pages rollouts by one reward's value (storekit.RewardSort).
// CROSS JOIN keeps rewards as the outer loop: the index order is the page order.
func (db *DB) rolloutsByReward(ctx context.Context, pk int64, q expt.RolloutQuery, f *storekit.Where, name, dir string, limit int) ([]*expt.Rollout, bool, error) {
	nid, known, err := db.rewardNameID(ctx, pk, name)
	if err != nil {
		return nil, false, err
	}
	valued := `sw.name_id = ? AND sw.value IS NOT NULL AND r.id = sw.rollout_id AND ` + f.SQL()
	args := append([]any{nid}, f.Args...)
	return storekit.RewardSort{
		Known: known,
		Valued: func(n, offset int) ([]*expt.Rollout, error) {
			return storekit.QueryRollouts(ctx, db.rd, q.ExperimentID, q.RawMessages, `SELECT `+rolloutColumns+` FROM rewards sw CROSS JOIN rollouts r JOIN prompts p ON p.id = r.prompt_id WHERE `+valued+
				` ORDER BY sw.value`+dir+`, sw.rollout_id`+dir+` LIMIT ? OFFSET ?`, append(args, n, offset)...)
		},
		CountValued: func() (n int, err error) {
			if err = db.read.QueryRowContext(ctx, `SELECT count(*) FROM rewards sw CROSS JOIN rollouts r WHERE `+valued, args...).Scan(&n); err != nil {
				err = ftsError(fmt.Errorf("count rollouts by reward: %w", err))
			}
			return n, err
		},
		Rest: func(n, offset int) ([]*expt.Rollout, error) {
			return storekit.QueryRollouts(ctx, db.rd, q.ExperimentID, q.RawMessages, `SELECT `+rolloutColumns+` FROM rollouts r JOIN prompts p ON p.id = r.prompt_id
				WHERE `+f.SQL()+` AND NOT EXISTS (SELECT 1 FROM rewards w WHERE w.rollout_id = r.id AND w.name_id = ? AND w.value IS NOT NULL)
				ORDER BY r.id`+dir+` LIMIT ? OFFSET ?`, append(f.Args, nid, n, offset)...)
		},
	}.Page(limit, q.Offset)
}
