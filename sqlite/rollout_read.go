package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/expt-logger/expt"
)

const rolloutColumns = `r.id, r.step, r.mode, p.text, p.raw, r.messages, r.ts, r.created_at, r.client_id`

// Rollout loads one rollout of an experiment.
func (db *DB) Rollout(ctx context.Context, experimentID string, id int64) (*expt.Rollout, error) {
	pk, err := db.experimentPK(ctx, db.read, experimentID)
	if err != nil {
		return nil, err
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+rolloutColumns+` FROM rollouts r JOIN prompts p ON p.id = r.prompt_id
		WHERE r.id = ? AND r.experiment = ?`, id, pk)
	if err != nil {
		return nil, fmt.Errorf("select rollout: %w", err)
	}
	list, err := db.scanRollouts(ctx, rows, experimentID)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, expt.Errorf(expt.ENOTFOUND, "rollout %d not found", id)
	}
	return list[0], nil
}

// scanRollouts reads rollouts then attaches their rewards in one query.
func (db *DB) scanRollouts(ctx context.Context, rows *sql.Rows, experimentID string) ([]*expt.Rollout, error) {
	out := []*expt.Rollout{}
	byID := map[int64]*expt.Rollout{}
	for rows.Next() {
		r := &expt.Rollout{ExperimentID: experimentID}
		var raw, clientID sql.NullString
		var msgs string
		var created int64
		if err := rows.Scan(&r.ID, &r.Step, &r.Mode, &r.Prompt, &raw, &msgs, &r.TS, &created, &clientID); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan rollout: %w", err)
		}
		if raw.Valid {
			r.PromptRaw = json.RawMessage(raw.String)
		}
		r.CreatedAt, r.ClientID = fromNanos(created), clientID.String
		var err error
		if r.Messages, err = decodeMessages(msgs); err != nil {
			rows.Close()
			return nil, fmt.Errorf("rollout %d: %w", r.ID, err)
		}
		r.Rewards = []expt.Reward{}
		out = append(out, r)
		byID[r.ID] = r
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select rollouts: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]any, len(out))
	for i, r := range out {
		ids[i] = r.ID
	}
	rw, err := db.read.QueryContext(ctx, `SELECT w.rollout_id, n.name, w.value FROM rewards w JOIN reward_names n ON n.id = w.name_id
		WHERE w.rollout_id IN (`+strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")+`) ORDER BY w.rollout_id, w.name_id`, ids...)
	if err != nil {
		return nil, fmt.Errorf("select rewards: %w", err)
	}
	defer rw.Close()
	for rw.Next() {
		var id int64
		var name string
		var v sql.NullFloat64
		if err := rw.Scan(&id, &name, &v); err != nil {
			return nil, fmt.Errorf("scan reward: %w", err)
		}
		if !v.Valid {
			v.Float64 = math.NaN()
		}
		r := byID[id]
		r.Rewards = append(r.Rewards, expt.Reward{Name: name, Value: v.Float64})
	}
	return out, rw.Err()
}

// decodeMessages splits the stored array back into messages, each keeping
// its raw bytes; role and content are read from it when they are strings.
func decodeMessages(s string) ([]expt.Message, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal([]byte(s), &raws); err != nil {
		return nil, fmt.Errorf("decode messages: %w", err)
	}
	out := make([]expt.Message, len(raws))
	for i, raw := range raws {
		out[i].Raw = raw
		var fields map[string]json.RawMessage
		if json.Unmarshal(raw, &fields) != nil {
			continue // not an object: kept raw, nothing to show
		}
		_ = json.Unmarshal(fields["role"], &out[i].Role)
		_ = json.Unmarshal(fields["content"], &out[i].Content)
	}
	return out, nil
}

// rolloutFilter builds the WHERE clause shared by Rollouts and RolloutGroups.
// empty is true when a filter names a reward the experiment never logged,
// which no rollout can match.
type rolloutFilter struct {
	where []string
	args  []any
}

func (f *rolloutFilter) add(cond string, args ...any) {
	f.where = append(f.where, cond)
	f.args = append(f.args, args...)
}

func (f *rolloutFilter) sql() string { return strings.Join(f.where, " AND ") }

func (db *DB) baseFilter(pk int64, mode string, step, from, to *int64, search string) *rolloutFilter {
	f := &rolloutFilter{}
	f.add(`r.experiment = ?`, pk)
	if mode != "" {
		f.add(`r.mode = ?`, mode)
	}
	if step != nil {
		f.add(`r.step = ?`, *step)
	}
	if from != nil {
		f.add(`r.step >= ?`, *from)
	}
	if to != nil {
		f.add(`r.step <= ?`, *to)
	}
	f.addSearch(search, nil)
	return f
}

// addSearch adds the full-text condition, if search has a searchable term.
// ids, when known, bounds the ids of the rollouts the other conditions
// leave: the index then reads only that stretch of each word's rollouts
// instead of all of them (a common word is in most of 1M rollouts).
func (f *rolloutFilter) addSearch(search string, ids *[2]int64) {
	q, ok := ftsQuery(search)
	switch {
	case !ok:
	case ids != nil:
		f.add(`r.id IN (SELECT rowid FROM rollouts_fts WHERE rollouts_fts MATCH ? AND rowid BETWEEN ? AND ?)`, q, ids[0], ids[1])
	default:
		f.add(`r.id IN (SELECT rowid FROM rollouts_fts WHERE rollouts_fts MATCH ?)`, q)
	}
}

// rewardNameID finds a reward name of an experiment; ok is false when unknown.
func (db *DB) rewardNameID(ctx context.Context, pk int64, name string) (int64, bool, error) {
	k := nameKey{pk, name}
	db.cache.mu.Lock()
	id, ok := db.cache.rewards[k]
	db.cache.mu.Unlock()
	if ok {
		return id, true, nil
	}
	err := db.read.QueryRowContext(ctx, `SELECT id FROM reward_names WHERE experiment = ? AND name = ?`, pk, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	} else if err != nil {
		return 0, false, fmt.Errorf("select reward name: %w", err)
	}
	db.cache.mu.Lock()
	db.cache.rewards[k] = id
	db.cache.mu.Unlock()
	return id, true, nil
}

// Rollouts returns a page of rollouts and whether more follow.
func (db *DB) Rollouts(ctx context.Context, q expt.RolloutQuery) ([]*expt.Rollout, bool, error) {
	sortReward, err := q.Check()
	if err != nil {
		return nil, false, err
	}
	pk, err := db.experimentPK(ctx, db.read, q.ExperimentID)
	if err != nil {
		return nil, false, err
	}
	limit := q.Limit
	if limit == 0 {
		limit = 50
	}
	// A sort by reward over few rollouts (a step's, a prompt's) sorts them
	// itself; ids bounds them for the search.
	var few *[2]int64
	if sortReward != "" {
		if few, err = db.fewRollouts(ctx, pk, q); err != nil {
			return nil, false, err
		}
	}
	f := db.narrowFilter(pk, q)
	f.addSearch(q.Search, few)
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
		f.add(`EXISTS (SELECT 1 FROM rewards w WHERE w.rollout_id = r.id AND w.name_id = ? AND w.value `+rf.Op+` ?)`, nid, nullable(rf.Value))
	}
	dir := " ASC"
	if q.Desc {
		dir = " DESC"
	}
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
	rows, err := db.read.QueryContext(ctx, `SELECT `+rolloutColumns+` FROM rollouts r JOIN prompts p ON p.id = r.prompt_id`+
		` WHERE `+f.sql()+` ORDER BY `+order+` LIMIT ? OFFSET ?`, append(f.args, limit+1, q.Offset)...)
	if err != nil {
		return nil, false, ftsError(fmt.Errorf("select rollouts: %w", err))
	}
	list, err := db.scanRollouts(ctx, rows, q.ExperimentID)
	if err != nil {
		return nil, false, ftsError(err)
	}
	more := len(list) > limit
	if more {
		list = list[:limit]
	}
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
func (db *DB) narrowFilter(pk int64, q expt.RolloutQuery) *rolloutFilter {
	f := db.baseFilter(pk, q.Mode, q.Step, q.FromStep, q.ToStep, "")
	if q.Prompt != nil {
		f.add(`r.prompt_id IN (SELECT id FROM prompts WHERE experiment = ? AND text_hash = ? AND text = ?)`, pk, textHash(*q.Prompt), *q.Prompt)
	}
	return f
}

// fewRollouts returns the lowest and highest id of the rollouts that the
// step, step range or prompt of q leaves, before any search or reward
// filter, when they are at most sortLimit; else nil. Counting stops at
// sortLimit + 1, so the answer costs at most that many index entries.
func (db *DB) fewRollouts(ctx context.Context, pk int64, q expt.RolloutQuery) (*[2]int64, error) {
	if q.Step == nil && q.FromStep == nil && q.ToStep == nil && q.Prompt == nil {
		return nil, nil
	}
	f := db.narrowFilter(pk, q)
	var n int
	var lo, hi sql.NullInt64
	err := db.read.QueryRowContext(ctx, `SELECT count(*), min(id), max(id) FROM (SELECT r.id AS id FROM rollouts r WHERE `+f.sql()+` LIMIT ?)`,
		append(f.args, sortLimit+1)...).Scan(&n, &lo, &hi)
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
func (db *DB) rolloutsByRewardSorted(ctx context.Context, pk int64, q expt.RolloutQuery, f *rolloutFilter, name, dir string, limit int) ([]*expt.Rollout, bool, error) {
	nid, _, err := db.rewardNameID(ctx, pk, name) // unknown: id 0 matches no reward, so all sort by id
	if err != nil {
		return nil, false, err
	}
	// NULL (missing or NaN) sorts after every value in both directions.
	order := func(v, id string) string { return v + ` IS NULL, ` + v + dir + `, ` + id + dir }
	rows, err := db.read.QueryContext(ctx, `SELECT `+rolloutColumns+` FROM (
			SELECT r.id AS id, sw.value AS v FROM rollouts r LEFT JOIN rewards sw ON sw.rollout_id = r.id AND sw.name_id = ?
			WHERE `+f.sql()+` ORDER BY `+order("sw.value", "r.id")+` LIMIT ? OFFSET ?
		) k JOIN rollouts r ON r.id = k.id JOIN prompts p ON p.id = r.prompt_id ORDER BY `+order("k.v", "k.id"),
		append(append([]any{nid}, f.args...), limit+1, q.Offset)...)
	if err != nil {
		return nil, false, ftsError(fmt.Errorf("select rollouts by reward: %w", err))
	}
	list, err := db.scanRollouts(ctx, rows, q.ExperimentID)
	if err != nil {
		return nil, false, ftsError(err)
	}
	more := len(list) > limit
	if more {
		list = list[:limit]
	}
	return list, more, nil
}

// rolloutsByReward pages rollouts by one reward's value, ties by id, and
// rollouts without a value (missing or NaN) after all others in id order.
// The two parts are two queries so that the first walks the (name, value)
// index in order instead of sorting every rollout of the experiment.
func (db *DB) rolloutsByReward(ctx context.Context, pk int64, q expt.RolloutQuery, f *rolloutFilter, name, dir string, limit int) ([]*expt.Rollout, bool, error) {
	nid, known, err := db.rewardNameID(ctx, pk, name)
	if err != nil {
		return nil, false, err
	}
	want := limit + 1
	var list []*expt.Rollout
	valued := 0 // rollouts with a value, counted only when the page starts past them
	if known {
		// CROSS JOIN keeps rewards as the outer loop: the index order is the page order.
		rows, err := db.read.QueryContext(ctx, `SELECT `+rolloutColumns+` FROM rewards sw CROSS JOIN rollouts r JOIN prompts p ON p.id = r.prompt_id
			WHERE sw.name_id = ? AND sw.value IS NOT NULL AND r.id = sw.rollout_id AND `+f.sql()+`
			ORDER BY sw.value`+dir+`, sw.rollout_id`+dir+` LIMIT ? OFFSET ?`, append(append([]any{nid}, f.args...), want, q.Offset)...)
		if err != nil {
			return nil, false, ftsError(fmt.Errorf("select rollouts by reward: %w", err))
		}
		if list, err = db.scanRollouts(ctx, rows, q.ExperimentID); err != nil {
			return nil, false, ftsError(err)
		}
		if len(list) == 0 && q.Offset > 0 {
			err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM rewards sw CROSS JOIN rollouts r
				WHERE sw.name_id = ? AND sw.value IS NOT NULL AND r.id = sw.rollout_id AND `+f.sql(), append([]any{nid}, f.args...)...).Scan(&valued)
			if err != nil {
				return nil, false, ftsError(fmt.Errorf("count rollouts by reward: %w", err))
			}
		}
	}
	if len(list) < want {
		offset := 0
		if len(list) == 0 {
			offset = q.Offset - valued
		}
		rows, err := db.read.QueryContext(ctx, `SELECT `+rolloutColumns+` FROM rollouts r JOIN prompts p ON p.id = r.prompt_id
			WHERE `+f.sql()+` AND NOT EXISTS (SELECT 1 FROM rewards w WHERE w.rollout_id = r.id AND w.name_id = ? AND w.value IS NOT NULL)
			ORDER BY r.id`+dir+` LIMIT ? OFFSET ?`, append(f.args, nid, want-len(list), offset)...)
		if err != nil {
			return nil, false, ftsError(fmt.Errorf("select rollouts without reward: %w", err))
		}
		rest, err := db.scanRollouts(ctx, rows, q.ExperimentID)
		if err != nil {
			return nil, false, ftsError(err)
		}
		list = append(list, rest...)
	}
	more := len(list) > limit
	if more {
		list = list[:limit]
	}
	return list, more, nil
}
